import { describe, expect, it } from "vitest";
import { decodeMessage, encodeValue } from "../../core/codec.ts";
import { HLC } from "../../core/hlc.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { CrdtWriter } from "../writes/crdt-writer.ts";
import { EventFanout } from "../delivery/event-fanout.ts";
import { InterestRegistry } from "../delivery/interest-registry.ts";
import { compareSequences, formatSequence, JOURNAL_MAX_EVENTS_PER_PARTITION, JOURNAL_TRIM_EVERY, JournalService, parseSequence } from "./journal-service.ts";
import { LwwStore } from "../writes/lww-store.ts";
import { MerkleStore } from "../writes/merkle-store.ts";
import type { OwnerOp } from "../writes/owner-op.ts";
import { OwnerService } from "../owner-service.ts";
import { OrStore } from "../writes/or-store.ts";
import type { ConnectionFrames } from "../delivery/home-deliveries.ts";
import { QueryService } from "../queries/query-service.ts";
import { applySchema } from "../storage/schema.ts";

const alice = { home: 7, conn: "alice" };

function setup(options: { partition?: number; clock?: () => number } = {}) {
  const sql = nodeSqlPort();
  applySchema(sql);
  const merkle = new MerkleStore(sql);
  const lww = new LwwStore(sql, merkle);
  const or = new OrStore(sql, merkle);
  const sent: { home: number; deliveries: ConnectionFrames[] }[] = [];
  const deliver = async (home: number, deliveries: ConnectionFrames[]) => {
    sent.push({ home, deliveries });
    return [];
  };
  const journal = new JournalService({ sql, partition: options.partition ?? 5, deliver, clock: options.clock ?? (() => 1_000) });
  const hlc = new HLC("edge-p5", { clock: () => 1_000 });
  const writer = new CrdtWriter({ sql, lww, or, merkle, hlc, journal });
  const interest = new InterestRegistry(sql);
  const owner = new OwnerService({
    sql, writer, lww, or, merkle, interest, hlc, journal,
    fanout: new EventFanout(interest, async () => []),
    deliver,
    queries: new QueryService({ sql, lww, interest, deliver: async () => [] }),
  });
  let millis = 100;
  const op = (map: string, key: string, value: unknown): OwnerOp => ({
    index: 0, type: value === null ? "REMOVE" : "PUT", map, key, record: { value, timestamp: { millis: millis++, counter: 0, nodeId: "w" } },
  });
  const write = (...ops: OwnerOp[]) => owner.apply({ ops: ops.map((o, index) => ({ ...o, index })), writer: alice });
  const journalEvents = () =>
    sent.flatMap(({ deliveries }) => deliveries.flatMap(({ conn, frames }) => frames.map((f) => [conn, (decodeMessage(f) as { event: { type: string; key: string } }).event])));
  return { sql, journal, owner, op, write, sent, journalEvents, lww };
}

describe("JournalService", () => {
  it("sequences are tick*1000+partition, unique and numerically ordered", () => {
    expect(formatSequence(1_000_000, 5)).toBe("1000000005");
    expect(parseSequence("1000000005")).toEqual({ tick: 1_000_000, partition: 5 });
    expect(parseSequence("1")).toEqual({ tick: 0, partition: 1 });
    expect(compareSequences("999", "1000")).toBe(-1);
    expect(() => parseSequence("abc")).toThrow();
  });

  it("journals PUT, UPDATE and DELETE with values and previous values, in the write's order", async () => {
    const { write, op, journal } = setup();
    await write(op("m", "k", 1), op("m", "k", 2));
    await write(op("m", "k", null));
    await write(op("m", "k", 3));
    const events = journal.read({ fromSequence: "0", limit: 100 });
    expect(events.map((e) => [e.type, e.key, e.value, e.previousValue, e.nodeId])).toEqual([
      ["PUT", "k", 1, undefined, "w"],
      ["UPDATE", "k", 2, 1, "w"],
      ["DELETE", "k", undefined, 2, "w"],
      ["PUT", "k", 3, undefined, "w"],
    ]);
    const seqs = events.map((e) => e.sequence);
    expect([...seqs].sort(compareSequences)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(4);
    expect(seqs.every((s) => s.endsWith("005"))).toBe(true);
  });

  it("does not journal a write that loses the merge", async () => {
    const { write, journal } = setup();
    const ts = (millis: number) => ({ millis, counter: 0, nodeId: "w" });
    await write({ index: 0, type: "PUT", map: "m", key: "k", record: { value: "new", timestamp: ts(200) } });
    await write({ index: 0, type: "PUT", map: "m", key: "k", record: { value: "old", timestamp: ts(100) } });
    expect(journal.read({ fromSequence: "0", limit: 10 }).map((e) => e.value)).toEqual(["new"]);
  });

  it("reads from an inclusive sequence, filters by map before the limit", async () => {
    const { write, op, journal } = setup();
    for (let i = 0; i < 5; i++) await write(op("other", `o${i}`, i), op("m", `k${i}`, i));
    const all = journal.read({ fromSequence: "0", limit: 100, map: "m" });
    expect(all.map((e) => e.key)).toEqual(["k0", "k1", "k2", "k3", "k4"]);
    const page = journal.read({ fromSequence: all[2]!.sequence, limit: 2, map: "m" });
    expect(page.map((e) => e.key)).toEqual(["k2", "k3"]);
  });

  it("compares the partition part of fromSequence within the same tick", async () => {
    const { write, op, journal } = setup({ partition: 5 });
    await write(op("m", "a", 1));
    const [event] = journal.read({ fromSequence: "0", limit: 1 });
    const tick = parseSequence(event!.sequence).tick;
    expect(journal.read({ fromSequence: formatSequence(tick, 4), limit: 10 })).toHaveLength(1);
    expect(journal.read({ fromSequence: formatSequence(tick, 6), limit: 10 })).toHaveLength(0);
  });

  it("streams new events to matching subscriptions until unsubscribed or dropped", async () => {
    const { write, op, journal, journalEvents } = setup();
    journal.subscribe({ subscriptionId: "s1", filter: { map: "m", types: ["PUT"] }, subscriber: alice });
    journal.subscribe({ subscriptionId: "s2", filter: {}, subscriber: { home: 8, conn: "bob" } });
    await write(op("m", "k", 1), op("m", "k", 2), op("x", "y", 1));
    expect(journalEvents().map(([conn, e]) => [conn, (e as { type: string }).type, (e as { key: string }).key])).toEqual([
      ["alice", "PUT", "k"],
      ["bob", "PUT", "k"],
      ["bob", "UPDATE", "k"],
      ["bob", "PUT", "y"],
    ]);
    journal.unsubscribe({ subscriptionId: "s1", subscriber: alice });
    journal.dropConnection(8, "bob");
    const before = journalEvents().length;
    await write(op("m", "z", 1));
    expect(journalEvents()).toHaveLength(before);
  });

  it("publishes to a subscription made after writes found none, and to subscriptions a new object reads from SQLite", async () => {
    const { write, op, journal, journalEvents, sql, sent } = setup();
    await write(op("m", "a", 1));
    expect(journalEvents()).toHaveLength(0);
    journal.subscribe({ subscriptionId: "s", filter: {}, subscriber: alice });
    await write(op("m", "b", 1));
    expect(journalEvents().map(([, e]) => (e as { key: string }).key)).toEqual(["b"]);
    // After eviction a new service (same SQLite) still knows the subscription.
    const revived = new JournalService({ sql, partition: 5, deliver: async (home, deliveries) => (sent.push({ home, deliveries }), []), clock: () => 2_000 });
    const [event] = sql.transaction(() => revived.append([{ type: "PUT", map: "m", key: "c", value: 1, timestamp: { millis: 1, counter: 0, nodeId: "n" } }]));
    await revived.publish([event!]);
    expect(journalEvents().map(([, e]) => (e as { key: string }).key)).toEqual(["b", "c"]);
  });

  it("answers a subscription's backlog from fromSequence", async () => {
    const { write, op, journal } = setup();
    await write(op("m", "a", 1), op("m", "b", 2));
    const backlog = journal.subscribe({ subscriptionId: "s", fromSequence: "0", filter: { map: "m" }, subscriber: alice });
    expect(backlog.map((e) => e.key)).toEqual(["a", "b"]);
  });

  it("gives every event of a batch its own map and node id, also where the stored row shares them with the one before", () => {
    const { journal, sql } = setup();
    const ts = (nodeId: string) => ({ millis: 1, counter: 0, nodeId });
    sql.transaction(() =>
      journal.append([
        { type: "PUT", map: "a", key: "1", value: 1, timestamp: ts("n1") },
        { type: "PUT", map: "a", key: "2", value: 2, timestamp: ts("n1") },
        { type: "PUT", map: "b", key: "3", value: 3, timestamp: ts("n1") },
        { type: "PUT", map: "b", key: "4", value: 4, timestamp: ts("n2") },
        { type: "PUT", map: "a", key: "5", value: 5, timestamp: ts("n2") },
      ]),
    );
    const read = journal.read({ fromSequence: "0", limit: 10 }).map((e) => [e.mapName, e.key, e.nodeId]);
    expect(read).toEqual([["a", "1", "n1"], ["a", "2", "n1"], ["b", "3", "n1"], ["b", "4", "n2"], ["a", "5", "n2"]]);
    expect(journal.read({ fromSequence: "0", limit: 10, map: "b" }).map((e) => e.key)).toEqual(["3", "4"]);
  });

  it("keeps ticks increasing when the wall clock stands still or goes back", () => {
    let now = 5_000;
    const { journal, sql } = setup({ clock: () => now });
    const ts = { millis: 1, counter: 0, nodeId: "n" };
    const [a] = sql.transaction(() => journal.append([{ type: "PUT", map: "m", key: "a", value: 1, timestamp: ts }]));
    now = 4_000;
    const [b] = sql.transaction(() => journal.append([{ type: "PUT", map: "m", key: "b", value: 1, timestamp: ts }]));
    expect(compareSequences(a!.sequence, b!.sequence)).toBe(-1);
  });

  it("keeps the newest events within the ring's bound, also after a restart", () => {
    const { journal, sql } = setup();
    const ts = { millis: 1, counter: 0, nodeId: "n" };
    const batch = (from: number) => Array.from({ length: 500 }, (_, i) => ({ type: "PUT" as const, map: "m", key: `k${from + i}`, value: 1, timestamp: ts }));
    for (let n = 0; n < 13_000; n += 500) sql.transaction(() => journal.append(batch(n)));
    const count = () => Number(sql.exec("SELECT SUM(count) AS n FROM journal_batch")[0]?.n);
    expect(count()).toBeGreaterThanOrEqual(JOURNAL_MAX_EVENTS_PER_PARTITION);
    expect(count()).toBeLessThan(JOURNAL_MAX_EVENTS_PER_PARTITION + JOURNAL_TRIM_EVERY + 500);
    const restarted = new JournalService({ sql, partition: 5, deliver: async () => [], clock: () => 1_000 });
    for (let n = 13_000; n < 16_000; n += 500) sql.transaction(() => restarted.append(batch(n)));
    expect(count()).toBeGreaterThanOrEqual(JOURNAL_MAX_EVENTS_PER_PARTITION);
    expect(count()).toBeLessThan(JOURNAL_MAX_EVENTS_PER_PARTITION + JOURNAL_TRIM_EVERY + 500);
    const newest = restarted.read({ fromSequence: "0", limit: 20_000 }).at(-1);
    expect(newest?.key).toBe("k15999");
  });
});

describe("JournalService after an upgrade", () => {
  it("reads the events an older version stored one row each, values and previous values included", () => {
    const sql = nodeSqlPort();
    applySchema(sql, 9);
    sql.exec(
      "INSERT INTO journal_event (tick, map, key, type, value, prev, millis, counter, node) VALUES (?, 'm', 'a', 'PUT', ?, NULL, 1, 0, 'n'), (?, 'm', 'a', 'UPDATE', ?, ?, 2, 0, 'n')",
      1_000, encodeValue({ v: 1 }), 2_000, encodeValue({ v: 2 }), encodeValue({ v: 1 }),
    );
    applySchema(sql);
    const journal = new JournalService({ sql, partition: 5, deliver: async () => [], clock: () => 0 });
    expect(journal.read({ fromSequence: "0", limit: 10 }).map((e) => [e.sequence, e.type, e.value, e.previousValue])).toEqual([
      ["1000005", "PUT", { v: 1 }, undefined],
      ["2000005", "UPDATE", { v: 2 }, { v: 1 }],
    ]);
    const [next] = sql.transaction(() => journal.append([{ type: "DELETE", map: "m", key: "a", timestamp: { millis: 3, counter: 0, nodeId: "n" } }]));
    expect(next?.sequence).toBe("2001005");
  });
});

describe("OwnerService.process", () => {
  it("applies built-ins atomically with a newer timestamp and journals the change", async () => {
    const { owner, write, journal, lww } = setup();
    const future = { millis: 9_999_999, counter: 3, nodeId: "zz" };
    await write({ index: 0, type: "PUT", map: "m", key: "n", record: { value: 41, timestamp: future } });
    const results = await owner.process({ map: "m", keys: ["n", "fresh"], processor: { name: "increment" }, writer: alice });
    expect(results).toEqual({ n: { success: true, result: 42, newValue: 42 }, fresh: { success: true, result: 1, newValue: 1 } });
    const stored = lww.readKeys("m", ["n"]).get("n")!;
    expect(stored.value).toBe(42);
    expect(stored.timestamp.millis * 1e6 + stored.timestamp.counter).toBeGreaterThan(future.millis * 1e6 + future.counter);
    expect(stored.timestamp.nodeId).toBe("edge-p5");
    const types = journal.read({ fromSequence: "0", limit: 10 }).map((e) => [e.type, e.key, e.value, e.previousValue]);
    expect(types).toEqual([["PUT", "n", 41, undefined], ["UPDATE", "n", 42, 41], ["PUT", "fresh", 1, undefined]]);
  });

  it("reports errors per key and writes nothing for them", async () => {
    const { owner, write, op, lww } = setup();
    await write(op("m", "s", "text"));
    const results = await owner.process({ map: "m", keys: ["s"], processor: { name: "increment", args: 1 }, writer: alice });
    expect(results.s?.success).toBe(false);
    expect(lww.readKeys("m", ["s"]).get("s")?.value).toBe("text");
    const deleted = await owner.process({ map: "m", keys: ["s"], processor: { name: "delete" }, writer: alice });
    expect(deleted).toEqual({ s: { success: true, result: true } });
    expect(lww.readKeys("m", ["s"]).get("s")?.value).toBeNull();
  });
});
