import { describe, expect, it } from "vitest";
import { OpLog } from "./op-log.ts";

function put(log: OpLog, key: string) {
  const pending = log.create({ mapName: "m", key, opType: "PUT", record: { value: key, timestamp: { millis: 1, counter: 0, nodeId: "n" } } });
  log.add([pending]);
  return pending;
}

describe("OpLog", () => {
  it("numbers ops from 1 and uses the number as the wire id", () => {
    const log = new OpLog();

    expect([put(log, "a"), put(log, "b")].map((p) => [p.seq, p.op.id])).toEqual([[1, "1"], [2, "2"]]);
  });

  it("hands each op out once per connection", () => {
    const log = new OpLog();
    put(log, "a");
    const first = log.takeUnsent();
    put(log, "b");

    expect(first.map((p) => p.op.key)).toEqual(["a"]);
    expect(log.takeUnsent().map((p) => p.op.key)).toEqual(["b"]);
    expect(log.takeUnsent()).toEqual([]);
  });

  it("hands every pending op out again after a connection reset", () => {
    const log = new OpLog();
    put(log, "a");
    put(log, "b");
    log.takeUnsent();

    log.resetConnection();

    expect(log.takeUnsent().map((p) => p.op.key)).toEqual(["a", "b"]);
  });

  it("drops ops up to a numeric lastId and keeps later ones", () => {
    const log = new OpLog();
    ["a", "b", "c"].forEach((key) => put(log, key));
    log.takeUnsent();

    expect(log.acknowledge("2").map((p) => p.seq)).toEqual([1, 2]);
    expect(log.pending().map((p) => p.op.key)).toEqual(["c"]);
  });

  it("treats a non-numeric lastId as covering every op sent, but not ops not yet sent", () => {
    const log = new OpLog();
    put(log, "a");
    log.takeUnsent();
    put(log, "b");

    expect(log.acknowledge("unknown").map((p) => p.seq)).toEqual([1]);
    expect(log.pending().map((p) => p.op.key)).toEqual(["b"]);
  });

  it("continues numbering after the highest restored or persisted seq", () => {
    const log = new OpLog();
    log.restore([], 41);

    expect(put(log, "a").seq).toBe(42);
  });
});
