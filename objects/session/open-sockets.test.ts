import { describe, expect, it } from "vitest";
import { OpenSockets } from "./open-sockets.ts";

const OPEN = 1;
const CLOSING = 2;

/** A runtime whose getWebSockets(tag) the test counts. */
function setup(runtime: Record<string, { readyState: number }[]> = {}) {
  let lookUps = 0;
  const sockets = new OpenSockets((conn: string) => {
    lookUps += 1;
    return runtime[conn] ?? [];
  });
  return { sockets, lookUps: () => lookUps };
}

describe("OpenSockets", () => {
  it("finds a socket opened here without asking the runtime", () => {
    const { sockets, lookUps } = setup();
    const ws = { readyState: OPEN };
    sockets.opened("a", ws);

    expect(sockets.of("a")).toEqual([ws]);
    expect(sockets.of("a")[0]).toBe(ws);
    expect(lookUps()).toBe(0);
  });

  it("asks the runtime once for a socket accepted before hibernation, then keeps it", () => {
    const ws = { readyState: OPEN };
    const { sockets, lookUps } = setup({ a: [ws] });

    expect(sockets.of("a")[0]).toBe(ws);
    expect(sockets.of("a")[0]).toBe(ws);
    expect(lookUps()).toBe(1);
  });

  it("answers none for a connection that is not here, asking the runtime each time and keeping nothing", () => {
    const { sockets, lookUps } = setup();

    expect(sockets.of("gone")).toEqual([]);
    expect(sockets.of("gone")).toEqual([]);
    expect(lookUps()).toBe(2);
    expect(sockets.size).toBe(0);
  });

  it("forgets a socket at its close event", () => {
    const { sockets } = setup();
    sockets.opened("a", { readyState: OPEN });
    sockets.closed("a");

    expect(sockets.of("a")).toEqual([]);
    expect(sockets.size).toBe(0);
  });

  it("defers to the runtime for a socket no longer open (closed by this side, no close event yet)", () => {
    const ws = { readyState: OPEN };
    const { sockets, lookUps } = setup({ a: [ws] });
    sockets.opened("a", ws);
    ws.readyState = CLOSING;

    // The runtime still lists a closing socket: the answer is the runtime's, and the index lets it go.
    expect(sockets.of("a")).toEqual([ws]);
    expect(lookUps()).toBe(1);
    expect(sockets.size).toBe(0);
  });
});
