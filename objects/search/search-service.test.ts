import { describe, expect, it } from "vitest";
import { decodeMessage } from "../../core/codec.ts";
import { HLC } from "../../core/hlc.ts";
import { searchUpdateMessageSchema } from "../../core/protocol/search.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { CrdtWriter } from "../writes/crdt-writer.ts";
import { LwwStore } from "../writes/lww-store.ts";
import { MerkleStore } from "../writes/merkle-store.ts";
import type { OwnerOp } from "../writes/owner-op.ts";
import { OrStore } from "../writes/or-store.ts";
import type { ConnectionFrames } from "../delivery/home-deliveries.ts";
import { applySchema } from "../storage/schema.ts";
import { SearchIndexes } from "./search-index.ts";
import { SearchService } from "./search-service.ts";
import type { SqlPort } from "../storage/sql-port.ts";

const alice = { home: 7, conn: "alice" };
const bob = { home: 9, conn: "bob" };
let millis = 100;

function services(sql: SqlPort, unknown: string[] = []) {
  const merkle = new MerkleStore(sql);
  const lww = new LwwStore(sql, merkle);
  const writer = new CrdtWriter({ sql, lww, or: new OrStore(sql, merkle), merkle, hlc: new HLC("edge-p1", { clock: () => 1_000 }) });
  const sent: { home: number; deliveries: ConnectionFrames[] }[] = [];
  const indexes = new SearchIndexes({ sql, lww });
  const search = new SearchService({
    sql,
    lww,
    indexes,
    deliver: async (home, deliveries) => {
      sent.push({ home, deliveries });
      return unknown;
    },
  });
  /** OR-Map ops on map "tags": a value added under a tag, or a tag removed. */
  const orWrite = async (op: { add: string; key: string; value: unknown } | { remove: string; key: string }) => {
    const owner: OwnerOp =
      "add" in op
        ? { index: 0, type: "OR_ADD", map: "tags", key: op.key, record: { value: op.value, tag: op.add, timestamp: { millis: millis++, counter: 0, nodeId: "a" } } }
        : { index: 0, type: "OR_REMOVE", map: "tags", key: op.key, tag: op.remove };
    const applied = writer.apply([owner]);
    await search.publish(applied.changes, applied.orKeys);
  };
  const write = async (key: string, value: unknown) => {
    const op: OwnerOp = { index: 0, type: value === null ? "REMOVE" : "PUT", map: "m", key, record: { value, timestamp: { millis: millis++, counter: 0, nodeId: "a" } } };
    await search.publish(writer.apply([op]).changes);
  };
  /** SEARCH_UPDATE payloads delivered so far, as [home, conn, subscriptionId, key, changeType, matchedTerms]. */
  const updates = () =>
    sent.flatMap(({ home, deliveries }) =>
      deliveries.flatMap(({ conn, frames }) =>
        frames.map((frame) => {
          const { payload } = searchUpdateMessageSchema.parse(decodeMessage(frame));
          if (payload.changeType === "LEAVE") expect(payload.score).toBe(0);
          else expect(payload.score).toBeGreaterThan(0);
          return [home, conn, payload.subscriptionId, payload.key, payload.changeType, payload.matchedTerms];
        }),
      ),
    );
  return { search, indexes, write, orWrite, sent, updates };
}

function setup(unknown: string[] = []) {
  const sql = nodeSqlPort();
  applySchema(sql);
  return { sql, ...services(sql, unknown) };
}

describe("SearchService", () => {
  it("answers key, value, score and matched terms, best first, with limit (default 10) and minScore", async () => {
    const { search, write } = setup();
    for (let i = 0; i < 15; i++) await write(`k${String(i).padStart(2, "0")}`, { t: "common word" });
    await write("best", { t: "rare rare common" });

    const all = search.search({ map: "m", query: "rare common" });
    expect(all).toHaveLength(10);
    expect(all[0]).toMatchObject({ key: "best", value: { t: "rare rare common" } });
    expect(all[0]?.matchedTerms.sort()).toEqual(["common", "rare"]);
    expect(all.map((r) => r.score)).toEqual([...all.map((r) => r.score)].sort((a, b) => b - a));

    expect(search.search({ map: "m", query: "common", options: { limit: 3 } })).toHaveLength(3);
    const top = all[0]?.score ?? 0;
    expect(search.search({ map: "m", query: "rare common", options: { minScore: top } }).map((r) => r.key)).toEqual(["best"]);
    expect(search.search({ map: "empty", query: "x" })).toEqual([]);
  });

  it("multiplies the score by the boost of the field that matched", async () => {
    const { search, write } = setup();
    await write("a", { title: "zebra", body: "lion" });
    await write("b", { title: "lion", body: "zebra" });
    const plain = search.search({ map: "m", query: "zebra" });
    const boosted = search.search({ map: "m", query: "zebra", options: { boost: { title: 3 } } });
    expect(boosted[0]?.key).toBe("a");
    expect(boosted[0]?.score).toBeCloseTo((plain.find((r) => r.key === "a")?.score ?? 0) * 3);
    expect(boosted.find((r) => r.key === "b")?.score).toBeCloseTo(plain.find((r) => r.key === "b")?.score ?? 0);
  });

  it("sends ENTER, UPDATE and LEAVE (a tombstone included) to each subscriber's home", async () => {
    const { search, write, updates } = setup();
    await write("old", { t: "hello world" });
    expect(search.subscribe({ map: "m", subscriptionId: "s1", query: "hello", subscriber: alice }).map((r) => r.key)).toEqual(["old"]);
    search.subscribe({ map: "m", subscriptionId: "s2", query: "world", subscriber: bob });

    await write("k", { t: "hello" });
    await write("k", { t: "hello again" });
    await write("k", { t: "bye" });
    await write("old", null);
    await write("x", { t: "unrelated" });

    expect(updates()).toEqual([
      [7, "alice", "s1", "k", "ENTER", ["hello"]],
      [7, "alice", "s1", "k", "UPDATE", ["hello"]],
      [7, "alice", "s1", "k", "LEAVE", []],
      [7, "alice", "s1", "old", "LEAVE", []],
      [9, "bob", "s2", "old", "LEAVE", []],
    ]);
  });

  it("sends a deleted key's LEAVE with the value it had, and an update's LEAVE with the new value", async () => {
    const { search, write, sent } = setup();
    await write("gone", { t: "hello world" });
    await write("moved", { t: "hello there" });
    search.subscribe({ map: "m", subscriptionId: "s1", query: "hello", subscriber: alice });

    await write("gone", null);
    await write("moved", { t: "bye" });

    const leaves = sent.flatMap(({ deliveries }) =>
      deliveries.flatMap(({ frames }) => frames.map((frame) => searchUpdateMessageSchema.parse(decodeMessage(frame)).payload)),
    );
    expect(leaves.map((p) => [p.key, p.changeType, p.value])).toEqual([
      ["gone", "LEAVE", { t: "hello world" }],
      ["moved", "LEAVE", { t: "bye" }],
    ]);
  });

  it("honours minScore on live updates and stops after unsubscribe and dropConnection", async () => {
    const { search, write, updates } = setup();
    search.subscribe({ map: "m", subscriptionId: "s1", query: "hello", options: { minScore: 1e9 }, subscriber: alice });
    search.subscribe({ map: "m", subscriptionId: "s2", query: "hello", subscriber: alice });
    search.subscribe({ map: "m", subscriptionId: "s3", query: "hello", subscriber: bob });
    await write("a", { t: "hello" });
    expect(updates().map((u) => u[2])).toEqual(["s2", "s3"]);

    search.unsubscribe({ subscriptionId: "s2", subscriber: alice });
    search.dropConnection(bob.home, bob.conn);
    await write("b", { t: "hello" });
    expect(updates()).toHaveLength(2);
  });

  it("keeps subscriptions in SQLite: a new instance (after eviction) still delivers, rebuilding the index", async () => {
    const { sql, search, write } = setup();
    await write("a", { t: "hello" });
    search.subscribe({ map: "m", subscriptionId: "s1", query: "hello", subscriber: alice });

    const woken = services(sql);
    await woken.write("a", { t: "hello there" });
    await woken.write("b", { t: "hello" });
    expect(woken.updates().map((u) => [u[3], u[4]])).toEqual([
      ["a", "UPDATE"],
      ["b", "ENTER"],
    ]);
    expect(woken.indexes.builds).toBe(1);
  });

  it("indexes the stored value when a later write committed before an earlier one published", async () => {
    const sql = nodeSqlPort();
    applySchema(sql);
    const merkle = new MerkleStore(sql);
    const lww = new LwwStore(sql, merkle);
    const writer = new CrdtWriter({ sql, lww, or: new OrStore(sql, merkle), merkle, hlc: new HLC("edge-p1", { clock: () => 1_000 }) });
    const search = new SearchService({ sql, lww, indexes: new SearchIndexes({ sql, lww }), deliver: async () => [] });
    const op = (value: unknown): OwnerOp => ({ index: 0, type: "PUT", map: "m", key: "k", record: { value, timestamp: { millis: millis++, counter: 0, nodeId: "a" } } });
    search.search({ map: "m", query: "x" }); // builds the (empty) index
    const first = writer.apply([op({ t: "first" })]);
    const second = writer.apply([op({ t: "second" })]);
    await search.publish(second.changes);
    await search.publish(first.changes);
    expect(search.search({ map: "m", query: "first" })).toEqual([]);
    expect(search.search({ map: "m", query: "second" }).map((r) => r.key)).toEqual(["k"]);
  });

  it("drops the subscriptions of connections the home no longer knows", async () => {
    const { search, write, sent } = setup(["alice"]);
    search.subscribe({ map: "m", subscriptionId: "s1", query: "hello", subscriber: alice });
    await write("a", { t: "hello" });
    await write("b", { t: "hello" });
    expect(sent).toHaveLength(1);
  });

  it("indexes an OR-Map key's values as one document, answering them oldest first", async () => {
    const { search, orWrite } = setup();
    await orWrite({ add: "t1", key: "post-1", value: { label: "edge computing" } });
    await orWrite({ add: "t2", key: "post-1", value: "durable objects" });
    await orWrite({ add: "t3", key: "post-2", value: "sqlite" });

    const results = search.search({ map: "tags", query: "durable edge" });

    expect(results.map((r) => [r.key, r.value, [...r.matchedTerms].sort()])).toEqual([
      ["post-1", [{ label: "edge computing" }, "durable objects"], ["durable", "edge"]],
    ]);
  });

  it("keeps an OR-Map key's document up to date and sends SEARCH_UPDATEs for it", async () => {
    const { search, orWrite, updates } = setup();
    await orWrite({ add: "t1", key: "k", value: "alpha" });
    search.search({ map: "tags", query: "beta" }); // builds the index before the live writes
    search.subscribe({ map: "tags", subscriptionId: "s", query: "beta", subscriber: alice });

    await orWrite({ add: "t2", key: "k", value: "beta" });
    await orWrite({ remove: "t2", key: "k" });

    expect(search.search({ map: "tags", query: "alpha" }).map((r) => r.value)).toEqual([["alpha"]]);
    expect(updates().map((u) => [u[3], u[4]])).toEqual([
      ["k", "ENTER"],
      ["k", "LEAVE"],
    ]);
  });
});
