import { describe, expect, it } from "vitest";
import { decodeMessage } from "../../core/codec.ts";
import { deferred } from "../../test/support/deferred.ts";
import { ConnectionSender } from "./connection-sender.ts";

interface Call {
  home: number;
  conns: string[];
  frames: Uint8Array[];
}

function recording(answer: (call: Call) => Promise<string[]> = async () => []) {
  const calls: Call[] = [];
  const sender = new ConnectionSender((home, conns, frames) => {
    const call = { home, conns, frames };
    calls.push(call);
    return answer(call);
  });
  return { sender, calls };
}

const message = { type: "TOPIC_MESSAGE", payload: { topic: "t", data: 1, publisherId: "p", timestamp: 1 } };

describe("ConnectionSender", () => {
  it("makes one call per home, carrying every connection of that home", async () => {
    const { sender, calls } = recording();
    const targets = [
      ...Array.from({ length: 50 }, (_, i) => ({ home: 7, conn: `a${i}` })),
      ...Array.from({ length: 30 }, (_, i) => ({ home: 9, conn: `b${i}` })),
    ];

    await sender.send(targets, [message]);

    expect(calls.map((c) => [c.home, c.conns.length])).toEqual([
      [7, 50],
      [9, 30],
    ]);
  });

  it("encodes a message once for every home and connection", async () => {
    const { sender, calls } = recording();

    await sender.send([{ home: 1, conn: "a" }, { home: 2, conn: "b" }, { home: 3, conn: "c" }], [message]);

    const frame = calls[0]?.frames[0];
    expect(frame && decodeMessage(frame)).toEqual(message);
    expect(calls.every((c) => c.frames.length === 1 && c.frames[0] === frame)).toBe(true);
  });

  it("calls every home before any answers, so a slow home does not hold the others back", async () => {
    const slow = deferred<string[]>();
    const { sender, calls } = recording((call) => (call.home === 1 ? slow.promise : Promise.resolve([])));

    const sent = sender.send([{ home: 1, conn: "a" }, { home: 2, conn: "b" }, { home: 3, conn: "c" }], [message]);

    expect(calls.map((c) => c.home)).toEqual([1, 2, 3]);
    slow.resolve([]);
    await sent;
  });

  it("answers the connections their homes no longer know; a failing home loses only its own", async () => {
    const { sender } = recording(async (call) => {
      if (call.home === 2) throw new Error("home away");
      return call.conns.filter((conn) => conn.startsWith("gone"));
    });

    const unknown = await sender.send([{ home: 1, conn: "gone-1" }, { home: 1, conn: "here" }, { home: 2, conn: "b" }, { home: 3, conn: "gone-3" }], [message]);

    expect(unknown).toEqual([{ home: 1, conn: "gone-1" }, { home: 3, conn: "gone-3" }]);
  });
});
