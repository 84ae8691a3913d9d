import { describe, expect, it } from "vitest";
import { encodeValue } from "../../core/codec.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { Outbox } from "./outbox.ts";
import { OUTBOX_DDL } from "../storage/schema.ts";
import type { ChangeRow } from "./postgres-sink.ts";

function setup(clock = () => 1_000) {
  const sql = nodeSqlPort();
  sql.exec(OUTBOX_DDL);
  return { sql, outbox: new Outbox(sql, clock) };
}

const lww = (key: string, value: unknown): ChangeRow => ({
  kind: "lww", map: "m", key, value: value === null ? null : encodeValue(value), millis: 5, counter: 1, node: "n",
});

describe("Outbox", () => {
  it("gives back changes in the order they were applied, values intact", () => {
    const { outbox } = setup();
    const rows: ChangeRow[] = [
      lww("a", { x: 1 }),
      lww("b", null),
      { kind: "or-add", map: "l", key: "k", tag: "5:1:n", value: encodeValue("v"), millis: 5, counter: 1, node: "n", ttlMs: 50 },
      { kind: "or-remove", map: "l", key: "k", tag: "4:0:n" },
      { kind: "lww-prune", map: "m", key: "b", millis: 5, counter: 1, node: "n" },
      { kind: "or-prune", map: "l", key: "k", tag: "4:0:n" },
    ];
    outbox.append(rows);
    expect(outbox.peek(10)?.rows).toEqual(rows);
  });

  it("keeps changes until Postgres acknowledged them", () => {
    const { outbox } = setup();
    outbox.append([lww("a", 1), lww("b", 2), lww("c", 3)]);
    const first = outbox.peek(2);
    expect(first?.rows.map((r) => r.key)).toEqual(["a", "b"]);
    expect(outbox.peek(2)?.rows.map((r) => r.key)).toEqual(["a", "b"]);
    outbox.acknowledge(first?.lastSeq ?? 0);
    expect(outbox.peek(10)?.rows.map((r) => r.key)).toEqual(["c"]);
  });

  it("reports its depth and the age of the oldest change", () => {
    let now = 1_000;
    const { outbox } = setup(() => now);
    expect(outbox.stats()).toEqual({ depth: 0, lagMs: 0 });
    outbox.append([lww("a", 1)]);
    now = 1_250;
    outbox.append([lww("b", 1)]);
    expect(outbox.stats()).toEqual({ depth: 2, lagMs: 250 });
  });
});
