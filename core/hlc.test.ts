import { describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_DRIFT_MS,
  HLC,
  HLCDriftError,
  compareTimestamps,
  parseTimestamp,
  timestampToString,
} from "./hlc.ts";

function fixedClock(start: number): { clock: () => number; set: (ms: number) => void } {
  let now = start;
  return { clock: () => now, set: (ms) => (now = ms) };
}

describe("HLC.now", () => {
  it("takes the wall clock when it moved forward", () => {
    const time = fixedClock(1_000);
    const hlc = new HLC("n1", { clock: time.clock });
    expect(hlc.now()).toEqual({ millis: 1_000, counter: 0, nodeId: "n1" });
    time.set(2_000);
    expect(hlc.now()).toEqual({ millis: 2_000, counter: 0, nodeId: "n1" });
  });

  it("counts up within one millisecond", () => {
    const hlc = new HLC("n1", { clock: () => 1_000 });
    hlc.now();
    expect(hlc.now()).toEqual({ millis: 1_000, counter: 1, nodeId: "n1" });
  });

  it("keeps increasing when the wall clock goes backwards", () => {
    const time = fixedClock(5_000);
    const hlc = new HLC("n1", { clock: time.clock });
    const before = hlc.now();
    time.set(4_000);
    const after = hlc.now();
    expect(after).toEqual({ millis: 5_000, counter: 1, nodeId: "n1" });
    expect(compareTimestamps(after, before)).toBe(1);
  });
});

describe("HLC.update (Rust test vectors)", () => {
  it("jumps to a remote timestamp ahead of the wall clock", () => {
    const hlc = new HLC("n1", { clock: () => 1_000_000 });
    hlc.update({ millis: 1_000_100, counter: 5, nodeId: "r" });
    expect(hlc.now()).toEqual({ millis: 1_000_100, counter: 7, nodeId: "n1" });
  });

  it("takes the larger counter when local and remote millis are equal", () => {
    const hlc = new HLC("n1", { clock: () => 1_000_000 });
    hlc.now();
    hlc.update({ millis: 1_000_000, counter: 5, nodeId: "r" });
    expect(hlc.now()).toEqual({ millis: 1_000_000, counter: 7, nodeId: "n1" });
  });

  it("keeps the wall clock when it is ahead of the remote timestamp", () => {
    const hlc = new HLC("n1", { clock: () => 1_000_200 });
    hlc.update({ millis: 1_000_100, counter: 5, nodeId: "r" });
    expect(hlc.now()).toEqual({ millis: 1_000_200, counter: 1, nodeId: "n1" });
  });

  it("counts up from the local time when it is ahead of both", () => {
    const time = fixedClock(2_000);
    const hlc = new HLC("n1", { clock: time.clock });
    hlc.now();
    time.set(1_000);
    hlc.update({ millis: 1_500, counter: 9, nodeId: "r" });
    expect(hlc.now()).toEqual({ millis: 2_000, counter: 2, nodeId: "n1" });
  });

  it("ignores a timestamp whose numbers are not finite", () => {
    const hlc = new HLC("n1", { clock: () => 1_000 });
    hlc.update({ millis: Number.NaN, counter: 0, nodeId: "r" });
    expect(hlc.now()).toEqual({ millis: 1_000, counter: 0, nodeId: "n1" });
  });
});

describe("HLC drift", () => {
  const ahead = { millis: 1_000 + DEFAULT_MAX_DRIFT_MS + 1, counter: 0, nodeId: "r" };

  it("accepts a timestamp too far ahead when not strict", () => {
    const hlc = new HLC("n1", { clock: () => 1_000 });
    hlc.update(ahead);
    expect(hlc.now().millis).toBe(ahead.millis);
  });

  it("throws HLCDriftError for a timestamp too far ahead in strict mode and leaves the clock alone", () => {
    const hlc = new HLC("n1", { clock: () => 1_000, strict: true });
    expect(() => hlc.update(ahead)).toThrow(HLCDriftError);
    expect(hlc.now()).toEqual({ millis: 1_000, counter: 0, nodeId: "n1" });
  });

  it("accepts a timestamp exactly at the drift limit in strict mode", () => {
    const hlc = new HLC("n1", { clock: () => 1_000, strict: true, maxDriftMs: 500 });
    expect(() => hlc.update({ millis: 1_500, counter: 0, nodeId: "r" })).not.toThrow();
  });

  it("reports a timestamp more than maxDriftMs ahead as too far ahead", () => {
    const hlc = new HLC("n1", { clock: () => 1_000, maxDriftMs: 500 });
    expect(hlc.maxDriftMs).toBe(500);
    expect(hlc.isTooFarAhead({ millis: 1_500, counter: 0, nodeId: "r" })).toBe(false);
    expect(hlc.isTooFarAhead({ millis: 1_501, counter: 0, nodeId: "r" })).toBe(true);
    expect(hlc.isTooFarAhead({ millis: 1_501, counter: 0, nodeId: "r" }, 2_000)).toBe(false);
  });

  it("defaults the drift limit to 60 seconds", () => {
    expect(new HLC("n1").maxDriftMs).toBe(60_000);
  });
});

describe("HLC construction", () => {
  it("rejects a node id containing ':'", () => {
    expect(() => new HLC("a:b")).toThrow(/must not contain ':'/);
  });

  it("exposes its node id", () => {
    expect(new HLC("server-1").nodeId).toBe("server-1");
  });
});

describe("compareTimestamps", () => {
  const ts = (millis: number, counter: number, nodeId: string) => ({ millis, counter, nodeId });

  it("orders by millis first", () => {
    expect(compareTimestamps(ts(2, 0, "a"), ts(1, 9, "z"))).toBe(1);
  });

  it("orders by counter when millis are equal", () => {
    expect(compareTimestamps(ts(1, 1, "a"), ts(1, 2, "a"))).toBe(-1);
  });

  it("breaks ties on the node id by code unit, not by locale", () => {
    expect(compareTimestamps(ts(1, 1, "B"), ts(1, 1, "a"))).toBe(-1);
    expect(compareTimestamps(ts(1, 1, "node-b"), ts(1, 1, "node-a"))).toBe(1);
  });

  it("finds equal timestamps equal", () => {
    expect(compareTimestamps(ts(1, 1, "a"), ts(1, 1, "a"))).toBe(0);
  });
});

describe("timestamp strings", () => {
  it("writes millis:counter:nodeId in plain decimal", () => {
    expect(timestampToString({ millis: 1700000000000, counter: 3, nodeId: "n" })).toBe("1700000000000:3:n");
  });

  it("parses its own output back", () => {
    const ts = { millis: 1700000000000, counter: 3, nodeId: "n" };
    expect(parseTimestamp(timestampToString(ts))).toEqual(ts);
  });

  it("keeps colons in the node id like Rust's three-way split", () => {
    expect(parseTimestamp("100:0:a:b")).toEqual({ millis: 100, counter: 0, nodeId: "a:b" });
  });

  const malformed = ["", "100", "100:0", "100:0:", ":0:n", "x:0:n", "100:-1:n", "1e3:0:n", " 1:0:n"];
  it.each([...malformed, "100:4294967296:n", "client-1700-0"])("rejects the malformed tag %j", (text) => {
    expect(parseTimestamp(text)).toBeUndefined();
  });
});
