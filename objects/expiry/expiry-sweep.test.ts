import { describe, expect, it } from "vitest";
import { decodeMessage } from "../../core/codec.ts";
import { HLC } from "../../core/hlc.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { EventFanout } from "../delivery/event-fanout.ts";
import type { ConnectionFrames } from "../delivery/home-deliveries.ts";
import { InterestRegistry } from "../delivery/interest-registry.ts";
import { JournalService } from "../journal/journal-service.ts";
import { OwnerService } from "../owner-service.ts";
import { Outbox } from "../persistence/outbox.ts";
import { QueryService } from "../queries/query-service.ts";
import { applySchema } from "../storage/schema.ts";
import type { SqlPort } from "../storage/sql-port.ts";
import { CrdtWriter } from "../writes/crdt-writer.ts";
import { LwwStore } from "../writes/lww-store.ts";
import { MerkleStore } from "../writes/merkle-store.ts";
import { OrStore } from "../writes/or-store.ts";
import type { OwnerOp } from "../writes/owner-op.ts";
import { ExpirySweep } from "./expiry-sweep.ts";

const HORIZON = 60_000;
const alice = { home: 7, conn: "alice" };
const bob = { home: 3, conn: "bob" };

/** One owner over `sql` with a clock the test moves; a second call over the same `sql` is the object after a restart. */
function ownerOver(sql: SqlPort, clock: { now: number }, options: { chunk?: number } = {}) {
  const time = () => clock.now;
  const merkle = new MerkleStore(sql);
  const lww = new LwwStore(sql, merkle);
  lww.recover();
  const or = new OrStore(sql, merkle, { clock: time });
  const frames: { home: number; conn: string; message: { type: string; payload: Record<string, unknown> } }[] = [];
  const record = (home: number, conns: string[], list: Uint8Array[]) => {
    for (const conn of conns) for (const f of list) frames.push({ home, conn, message: decodeMessage(f) as never });
  };
  const deliverEach = async (home: number, deliveries: ConnectionFrames[]) => {
    for (const d of deliveries) record(home, [d.conn], d.frames);
    return [];
  };
  const interest = new InterestRegistry(sql);
  const fanout = new EventFanout(interest, deliverEach);
  const hlc = new HLC("edge-p5", { clock: time });
  const journal = new JournalService({ sql, partition: 5, deliver: deliverEach, clock: time });
  const outbox = new Outbox(sql, time);
  const wakes: number[] = [];
  const expiry = new ExpirySweep({
    sql, lww, or, hlc, outbox, fanout, horizonMs: HORIZON, clock: time, wakeAt: async (at) => void wakes.push(at), ...(options.chunk ? { chunk: options.chunk } : {}),
  });
  const owner = new OwnerService({
    sql, lww, or, merkle, interest, fanout, deliver: deliverEach, hlc, journal, expiry, clock: time,
    writer: new CrdtWriter({ sql, lww, or, merkle, hlc, journal, outbox }),
    queries: new QueryService({ sql, lww, interest, deliver: deliverEach, clock: time }),
  });
  const write = (...ops: OwnerOp[]) => owner.apply({ ops: ops.map((o, index) => ({ ...o, index })), writer: alice });
  const sent = (type: string) => frames.filter((f) => f.message.type === type).map((f) => ({ conn: f.conn, payload: f.message.payload }));
  const outboxRows = () => sql.exec("SELECT kind, key, tag, millis FROM outbox ORDER BY seq").map((r) => ({ ...r }));
  return { owner, lww, or, merkle, interest, journal, write, sent, frames, wakes, outboxRows };
}

function setup(options: { chunk?: number } = {}) {
  const sql = nodeSqlPort();
  applySchema(sql);
  const clock = { now: 1_000_000 };
  return { sql, clock, ...ownerOver(sql, clock, options) };
}

const ts = (millis: number, nodeId = "w") => ({ millis, counter: 0, nodeId });
const put = (key: string, value: unknown, millis: number, ttlMs?: number): OwnerOp => ({
  index: 0, type: "PUT", map: "m", key, record: { value, timestamp: ts(millis), ...(ttlMs === undefined ? {} : { ttlMs }) },
});
const remove = (key: string, millis: number): OwnerOp => ({ index: 0, type: "REMOVE", map: "m", key, record: { value: null, timestamp: ts(millis) } });
const count = (sql: SqlPort, query: string) => Number(sql.exec(query)[0]?.n);

/** The map's leaf sums as the records give them (what a restart derives), and as the store holds them. */
function sumsAgree(sql: SqlPort, merkle: MerkleStore, map: string): void {
  const derived = new Map(
    sql.exec("SELECT leaf, SUM(hash) & 4294967295 AS hash, COUNT(*) AS n FROM lww_record WHERE map = ? GROUP BY leaf", map).map((r) => [Number(r.leaf), [Number(r.hash), Number(r.n)]]),
  );
  const sums = merkle.sums("lww", map);
  const held = new Map<number, number[]>();
  sums.counts.forEach((n, leaf) => {
    if (n > 0) held.set(leaf, [sums.sums[leaf] ?? 0, n]);
  });
  expect(held).toEqual(derived);
}

describe("ExpirySweep: records whose TTL ran out", () => {
  it("are deleted by the sweep as a write: journaled as DELETE, LEAVE to live queries, REMOVE to synced connections, a tombstone for Postgres", async () => {
    const { owner, lww, write, sent, journal, clock, interest, outboxRows } = setup();
    interest.register("m", "lww-sync", bob.home, bob.conn);
    owner.querySubscribe({ map: "m", queryId: "q", query: {}, subscriber: bob });
    await write(put("short", { n: 1 }, clock.now, 5_000), put("long", { n: 2 }, clock.now, 60_000), put("plain", { n: 3 }, clock.now));
    lww.compact();

    clock.now += 5_001;
    await owner.sweep();

    expect(lww.readKeys("m", ["short"]).get("short")).toMatchObject({ value: null });
    expect(lww.readKeys("m", ["long"]).get("long")?.value).toEqual({ n: 2 });
    expect(journal.read({ fromSequence: "0", limit: 10 }).filter((e) => e.type === "DELETE").map((e) => [e.key, e.previousValue])).toEqual([["short", { n: 1 }]]);
    expect(sent("QUERY_UPDATE").filter((u) => u.payload.changeType === "LEAVE")).toEqual([
      { conn: "bob", payload: { queryId: "q", key: "short", value: { n: 1 }, changeType: "LEAVE" } },
    ]);
    expect(sent("SERVER_EVENT").map((e) => [e.conn, e.payload.eventType, e.payload.key])).toContainEqual(["bob", "REMOVE", "short"]);
    expect(outboxRows().at(-1)).toMatchObject({ kind: "lww", key: "short" });
  });

  it("are hidden from query reads before the sweep deletes them", async () => {
    const { owner, write, clock } = setup();
    await write(put("a", 1, clock.now, 1_000), put("b", 2, clock.now));
    clock.now += 1_001;
    const answer = await owner.queryRead({ map: "m", query: {} });
    expect(answer.kind === "entries" && answer.entries.map((e) => e.key)).toEqual(["b"]);
  });

  it("never enter a live query when written already expired, and make a matching key leave it", async () => {
    const { owner, write, clock, sent } = setup();
    owner.querySubscribe({ map: "m", queryId: "q", query: {}, subscriber: bob });
    await write(put("k", "fresh", clock.now - 10_000));
    await write(put("k", "stale", clock.now - 5_000, 1_000), put("j", "stale", clock.now - 5_000, 1_000));
    expect(sent("QUERY_UPDATE").map((u) => [u.payload.key, u.payload.changeType, u.payload.value])).toEqual([
      ["k", "ENTER", "fresh"],
      ["k", "LEAVE", "stale"],
    ]);
  });

  it("leave a key alone that was written again since (the newer record is not expired)", async () => {
    const { owner, lww, write, clock, journal } = setup();
    await write(put("k", "old", clock.now, 1_000));
    lww.compact();
    clock.now += 2_000;
    await write(put("k", "new", clock.now)); // in the write log, not compacted yet
    await owner.sweep();
    lww.compact();
    await owner.sweep();
    expect(lww.readKeys("m", ["k"]).get("k")?.value).toBe("new");
    expect(journal.read({ fromSequence: "0", limit: 10 }).some((e) => e.type === "DELETE")).toBe(false);
  });

  it("remove an OR-Map tag whose TTL ran out, and keep the key's other tags", async () => {
    const { owner, or, write, clock, sent, interest } = setup();
    interest.register("o", "or-sync", bob.home, bob.conn);
    const add = (tag: string, ttlMs?: number): OwnerOp => ({
      index: 0, type: "OR_ADD", map: "o", key: "k", record: { value: tag, timestamp: ts(clock.now), tag, ...(ttlMs ? { ttlMs } : {}) },
    });
    await write(add("t1", 1_000), add("t2"));
    clock.now += 1_001;
    await owner.sweep();
    const [entry] = or.readKeys("o", ["k"]);
    expect(entry?.records.map((r) => r.tag)).toEqual(["t2"]);
    expect(entry?.tombstones).toEqual(["t1"]);
    expect(sent("SERVER_EVENT").map((e) => [e.payload.eventType, e.payload.orTag])).toContainEqual(["OR_REMOVE", "t1"]);
  });
});

describe("ExpirySweep: tombstones", () => {
  it("older than the horizon are pruned from the records and the Merkle sums, queued for Postgres, and GC_PRUNE goes to synced connections", async () => {
    const { sql, owner, lww, merkle, write, clock, sent, interest, outboxRows } = setup();
    interest.register("m", "lww-sync", bob.home, bob.conn);
    await write(put("a", 1, clock.now - 10), put("b", 2, clock.now - 10), put("c", 3, clock.now - 10));
    await write(remove("a", clock.now - 5), remove("b", clock.now - 5));
    lww.compact();
    clock.now += HORIZON - 100;
    await write(remove("c", clock.now));
    lww.compact();
    clock.now += 200;

    await owner.sweep();

    expect(sql.exec("SELECT key FROM lww_record WHERE map = 'm' ORDER BY key").map((r) => r.key)).toEqual(["c"]);
    sumsAgree(sql, merkle, "m");
    expect(outboxRows().filter((r) => r.kind === "lww-prune").map((r) => r.key).sort()).toEqual(["a", "b"]);
    expect(sent("GC_PRUNE")).toEqual([{ conn: "bob", payload: { olderThan: { millis: clock.now - HORIZON, counter: 0, nodeId: "" } } }]);
    // After a restart the sums derived from the records agree with the ones kept.
    const again = ownerOver(sql, clock);
    sumsAgree(sql, again.merkle, "m");
    expect(again.lww.readKeys("m", ["a", "b", "c"]).size).toBe(1);
  });

  it("are pruned in bounded chunks, the alarm asked for at once while more are due, then when the next comes of age", async () => {
    const { sql, owner, lww, write, clock, wakes } = setup({ chunk: 2 });
    await write(...["a", "b", "c", "d", "e"].map((key) => remove(key, clock.now)));
    await write(remove("young", clock.now + 30_000));
    lww.compact();
    clock.now += HORIZON + 1;
    await owner.sweep();
    expect(count(sql, "SELECT COUNT(*) AS n FROM lww_record")).toBe(4);
    expect(wakes.at(-1)).toBe(clock.now);
    await owner.sweep();
    await owner.sweep();
    expect(count(sql, "SELECT COUNT(*) AS n FROM lww_record")).toBe(1);
    expect(wakes.at(-1)).toBe(1_000_000 + 30_000 + HORIZON + 1);
  });

  it("of a key written again since (its newer record still in the write log) are left to the compaction", async () => {
    const { sql, lww, owner, write, clock } = setup();
    await write(remove("k", clock.now), remove("k2", clock.now));
    lww.compact();
    clock.now += HORIZON + 1;
    await write(put("k2", "back", clock.now));
    await owner.sweep();
    expect(sql.exec("SELECT key, value FROM lww_record ORDER BY key").map((r) => [r.key, r.value])).toEqual([["k2", null]]);
    lww.compact();
    expect(lww.readKeys("m", ["k", "k2"]).get("k2")?.value).toBe("back");
    expect(lww.readKeys("m", ["k"]).size).toBe(0);
  });

  it("are not pruned while a compaction round runs (its log rows could bring them back after a restart)", async () => {
    const { sql, lww, owner, write, clock } = setup();
    await write(remove("k", clock.now));
    lww.compact();
    clock.now += HORIZON + 1;
    await write(remove("j", clock.now));
    expect(lww.compactStep(0)).toBe(true); // a round under way
    await owner.sweep();
    expect(count(sql, "SELECT COUNT(*) AS n FROM lww_record WHERE key = 'k'")).toBe(1);
    while (lww.compactStep()) {
      // the round's remaining steps
    }
    await owner.sweep();
    expect(count(sql, "SELECT COUNT(*) AS n FROM lww_record WHERE key = 'k'")).toBe(0);
  });

  it("and TTLs of an OR-Map write ask for the alarm soon, also when the next wake asked for is far away", async () => {
    const { owner, write, clock, wakes, lww } = setup();
    await write(remove("k", clock.now));
    lww.compact();
    await owner.sweep();
    expect(wakes.at(-1)).toBe(clock.now + HORIZON + 1);
    await write({ index: 0, type: "OR_ADD", map: "o", key: "k", record: { value: 1, timestamp: ts(clock.now), tag: "t", ttlMs: 10 } });
    await Promise.resolve();
    expect(wakes.at(-1)).toBe(clock.now + 2_000);
  });

  it("of an OR-Map older than the horizon are pruned and queued for Postgres", async () => {
    const { sql, owner, write, clock, outboxRows } = setup();
    await write({ index: 0, type: "OR_ADD", map: "o", key: "k", record: { value: 1, timestamp: ts(clock.now), tag: "t1" } });
    await write({ index: 0, type: "OR_REMOVE", map: "o", key: "k", tag: "t1" });
    clock.now += HORIZON / 2;
    await write({ index: 0, type: "OR_REMOVE", map: "o", key: "k", tag: "t-young" });
    clock.now += HORIZON / 2 + 1;
    await owner.sweep();
    expect(sql.exec("SELECT tag FROM or_tombstone").map((r) => r.tag)).toEqual(["t-young"]);
    expect(outboxRows().filter((r) => r.kind === "or-prune").map((r) => r.tag)).toEqual(["t1"]);
  });
});

describe("ExpirySweep: alarms with nothing due", () => {
  it("skip the sweep until a due time passes or a compaction brings tombstones or TTL records", async () => {
    const { owner, lww, write, clock, sql, wakes } = setup();
    const tombstones = () => count(sql, "SELECT COUNT(*) AS n FROM lww_record WHERE value IS NULL");
    await owner.sweep();
    await write(put("a", 1, clock.now));
    lww.compact();
    await owner.sweep();
    expect(owner.sweepMayBeDue()).toBe(false); // only a plain value arrived: nothing will ever be due

    await write(remove("a", clock.now + 1));
    expect(owner.sweepMayBeDue()).toBe(false); // the tombstone is still in the write log
    lww.compact();
    expect(owner.sweepMayBeDue()).toBe(true);
    await owner.sweep();
    expect(owner.sweepMayBeDue()).toBe(false); // it comes of age after the horizon
    // An alarm that comes a little early skips the sweep and asks for the alarm at the due time again.
    const dueAt = clock.now + 1 + HORIZON + 1;
    wakes.length = 0;
    await owner.sweep();
    expect(wakes).toEqual([dueAt]);
    clock.now += HORIZON + 2;
    expect(owner.sweepMayBeDue()).toBe(true);
    await owner.sweep();
    expect(tombstones()).toBe(0);
  });
});
