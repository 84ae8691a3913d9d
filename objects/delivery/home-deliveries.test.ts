import { describe, expect, it } from "vitest";
import { HomeDeliveries, type ConnectionFrames } from "./home-deliveries.ts";

const frame = (n: number) => new Uint8Array([n]);

describe("HomeDeliveries", () => {
  it("sends one call per home with each connection's frames in the order they were added", async () => {
    const outbox = new HomeDeliveries();
    outbox.add(7, "a", [frame(1)]);
    outbox.add(9, "c", [frame(2)]);
    outbox.add(7, "b", [frame(3)]);
    outbox.add(7, "a", [frame(4), frame(5)]);
    const calls: { home: number; deliveries: ConnectionFrames[] }[] = [];

    await outbox.send(async (home, deliveries) => (calls.push({ home, deliveries }), []), () => undefined, "test");

    expect(calls.map(({ home, deliveries }) => [home, deliveries.map(({ conn, frames }) => [conn, frames.map((f) => f[0])])])).toEqual([
      [7, [["a", [1, 4, 5]], ["b", [3]]]],
      [9, [["c", [2]]]],
    ]);
  });

  it("hands the connections a home reports unknown to dropUnknown, with their home", async () => {
    const outbox = new HomeDeliveries();
    outbox.add(7, "a", [frame(1)]);
    outbox.add(7, "b", [frame(2)]);
    const dropped: [number, string][] = [];

    await outbox.send(async () => ["b"], (home, conn) => dropped.push([home, conn]), "test");

    expect(dropped).toEqual([[7, "b"]]);
  });
});
