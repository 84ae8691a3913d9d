import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { EventFanout } from "../delivery/event-fanout.ts";
import { InterestRegistry } from "../delivery/interest-registry.ts";
import { JournalService } from "../journal/journal-service.ts";
import { OwnerService } from "../owner-service.ts";
import { QueryService } from "../queries/query-service.ts";
import { applySchema } from "../storage/schema.ts";
import { CrdtWriter } from "../writes/crdt-writer.ts";
import { LwwStore } from "../writes/lww-store.ts";
import { MerkleStore } from "../writes/merkle-store.ts";
import type { OwnerOp } from "../writes/owner-op.ts";
import { OrStore } from "../writes/or-store.ts";
import { changesSinceFor, DELTA_FRAME_RECORDS, DELTA_MAX_RECORDS, deltaFrames, orChangesOf, orDeltaFrames, rootTimestamp } from "./delta-resync.ts";

const listener = { home: 3, conn: "reader" };

/** An owner whose journal reads the clock `now` (ms). */
function owner() {
  const clock = { now: 1_000 };
  const sql = nodeSqlPort();
  applySchema(sql);
  const merkle = new MerkleStore(sql);
  const lww = new LwwStore(sql, merkle);
  const or = new OrStore(sql, merkle);
  const journal = new JournalService({ sql, partition: 5, deliver: async () => [], clock: () => clock.now });
  const hlc = new HLC("edge-p5");
  const writer = new CrdtWriter({ sql, lww, or, merkle, hlc, journal });
  const interest = new InterestRegistry(sql);
  const service = new OwnerService({
    sql, writer, lww, or, merkle, interest, hlc, journal,
    fanout: new EventFanout(interest, async () => []),
    deliver: async () => [],
    queries: new QueryService({ sql, lww, interest, deliver: async () => [] }),
  });
  let millis = 1;
  const put = (map: string, key: string, value: unknown): OwnerOp => ({
    index: 0, type: value === null ? "REMOVE" : "PUT", map, key, record: { value, timestamp: { millis: millis++, counter: 0, nodeId: "w" } },
  });
  const orAdd = (map: string, key: string, value: unknown): OwnerOp => {
    const timestamp = { millis: millis++, counter: 0, nodeId: "w" };
    return { index: 0, type: "OR_ADD", map, key, record: { value, timestamp, tag: `${timestamp.millis}:0:w` } };
  };
  const orRemove = (map: string, key: string, tag: string): OwnerOp => ({ index: 0, type: "OR_REMOVE", map, key, tag });
  const write = (...ops: OwnerOp[]) => service.apply({ ops: ops.map((o, index) => ({ ...o, index })), writer: { home: 1, conn: "writer" } });
  return { clock, service, put, orAdd, orRemove, write };
}

describe("delta re-sync at an owner", () => {
  it("answers the current records of the keys changed at or after the clock it handed out, tombstones included, other maps left out", async () => {
    const { clock, service, put, write } = owner();
    await write(put("m", "a", 1), put("m", "b", 1), put("m", "c", 1), put("other", "a", 1));
    clock.now = 2_000;
    const first = await service.syncInit({ kind: "lww", map: "m", listener });
    expect(first.at).toBe(2_000);
    expect(first.changes).toBeUndefined();

    // A write in the same millisecond as the clock handed out, then later ones (b twice: sent once, as it is now).
    await write(put("m", "a", 2));
    clock.now = 3_000;
    await write(put("m", "b", 2), put("other", "b", 2));
    await write(put("m", "b", 3), put("m", "c", null));

    const again = await service.syncInit({ kind: "lww", map: "m", listener, changesSince: { millis: first.at, limit: 100 } });
    expect(again.changes?.map(({ key, record }) => [key, record.value])).toEqual([["a", 2], ["b", 3], ["c", null]]);
    expect(again.at).toBe(3_000);
  });

  it("answers nothing for a client whose last sync is after every change, and at most `limit` keys otherwise", async () => {
    const { clock, service, put, write } = owner();
    await write(...Array.from({ length: 20 }, (_, i) => put("m", `k${i}`, i)));
    clock.now = 5_000;
    expect((await service.syncInit({ kind: "lww", map: "m", listener, changesSince: { millis: 5_000, limit: 100 } })).changes).toEqual([]);
    expect((await service.syncInit({ kind: "lww", map: "m", listener, changesSince: { millis: 1, limit: 7 } })).changes).toHaveLength(7);
  });
});

describe("OR-Map delta re-sync at an owner", () => {
  it("answers the entries of the keys changed at or after the clock it handed out: adds, and removes as the key's tombstones", async () => {
    const { clock, service, orAdd, orRemove, write } = owner();
    // Tags are `<millis>:0:w`, millis counting from 1: a=1, b=2, c=3, a's second value 4, then 5, 6.
    await write(orAdd("m", "a", "a1"), orAdd("m", "b", "b1"), orAdd("m", "c", "c1"));
    clock.now = 2_000;
    const first = await service.syncInit({ kind: "or", map: "m", listener });
    expect(first.orChanges).toBeUndefined();

    clock.now = 3_000;
    await write(orAdd("m", "a", "a2"), orRemove("m", "b", "2:0:w"), orAdd("other", "z", "z1"));

    const again = await service.syncInit({ kind: "or", map: "m", listener, changesSince: { millis: first.at, limit: 100 } });
    const summary = again.orChanges?.map((e) => [e.key, e.records.map((r) => r.tag).sort(), e.tombstones]);
    expect(summary).toEqual([
      ["a", ["1:0:w", "4:0:w"], []],
      ["b", [], ["2:0:w"]],
    ]);
    expect(again.changes).toBeUndefined();
    expect(again.at).toBe(3_000);
  });

  it("leaves out the keys of an LWW map of the same name, and answers nothing when nothing changed since", async () => {
    const { clock, service, put, orAdd, write } = owner();
    await write(orAdd("m", "a", "a1"));
    clock.now = 2_000;
    await write(put("m", "lww-key", 1));
    expect((await service.syncInit({ kind: "or", map: "m", listener, changesSince: { millis: 2_000, limit: 100 } })).orChanges).toEqual([]);
    clock.now = 3_000;
    expect((await service.syncInit({ kind: "or", map: "m", listener, changesSince: { millis: 3_000, limit: 100 } })).orChanges).toEqual([]);
  });

  it("keeps a key whose only trace is a tombstone and drops one with neither records nor tombstones", () => {
    const record = { value: 1, timestamp: { millis: 1, counter: 0, nodeId: "n" }, tag: "1:0:n" };
    expect(
      orChangesOf([
        { key: "live", records: [record], tombstones: [] },
        { key: "removed", records: [], tombstones: ["2:0:n"] },
        { key: "lww-only", records: [], tombstones: [] },
      ]).map((e) => e.key),
    ).toEqual(["live", "removed"]);
  });
});

describe("delta re-sync at the home", () => {
  it("asks each owner for its share of the bound, and nothing for a client that never synced", () => {
    expect(changesSinceFor(undefined, 1)).toBeUndefined();
    expect(changesSinceFor(0, 1)).toBeUndefined();
    expect(changesSinceFor(1_234, 1)).toEqual({ millis: 1_234, limit: DELTA_MAX_RECORDS });
    expect(changesSinceFor(1_234, 271)?.limit).toBe(Math.floor(DELTA_MAX_RECORDS / 271));
  });

  it("hands out the earliest owner clock, never later than its own", () => {
    const now = { millis: 5_000, counter: 4, nodeId: "home" };
    expect(rootTimestamp(now, [5_200, 4_900, 5_100])).toEqual({ millis: 4_900, counter: 0, nodeId: "home" });
    expect(rootTimestamp(now, [6_000])).toBe(now);
  });

  it("splits the delta into SYNC_RESP_LEAF frames of at most DELTA_FRAME_RECORDS records", () => {
    const record = { value: 1, timestamp: { millis: 1, counter: 0, nodeId: "n" } };
    const changes = Array.from({ length: DELTA_FRAME_RECORDS + 1 }, (_, i) => ({ key: `k${i}`, record }));
    const frames = deltaFrames("m", changes) as { type: string; payload: { mapName: string; path: string; records: unknown[] } }[];
    expect(frames.map((f) => [f.type, f.payload.mapName, f.payload.path, f.payload.records.length])).toEqual([
      ["SYNC_RESP_LEAF", "m", "", DELTA_FRAME_RECORDS],
      ["SYNC_RESP_LEAF", "m", "", 1],
    ]);
    expect(deltaFrames("m", [])).toEqual([]);
  });

  it("splits an OR-Map delta into ORMAP_DIFF_RESPONSE frames of at most DELTA_FRAME_RECORDS keys", () => {
    const entries = Array.from({ length: 2 * DELTA_FRAME_RECORDS + 3 }, (_, i) => ({ key: `k${i}`, records: [], tombstones: [`${i}:0:n`] }));
    const frames = orDeltaFrames("m", entries) as { type: string; payload: { mapName: string; entries: { key: string }[] } }[];
    expect(frames.map((f) => [f.type, f.payload.mapName, f.payload.entries.length])).toEqual([
      ["ORMAP_DIFF_RESPONSE", "m", DELTA_FRAME_RECORDS],
      ["ORMAP_DIFF_RESPONSE", "m", DELTA_FRAME_RECORDS],
      ["ORMAP_DIFF_RESPONSE", "m", 3],
    ]);
    expect(frames.flatMap((f) => f.payload.entries.map((e) => e.key))).toEqual(entries.map((e) => e.key));
    expect(orDeltaFrames("m", [])).toEqual([]);
  });
});
