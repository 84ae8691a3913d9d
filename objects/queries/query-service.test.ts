import { describe, expect, it } from "vitest";
import { decodeMessage } from "../../core/codec.ts";
import { HLC } from "../../core/hlc.ts";
import { queryUpdateMessageSchema } from "../../core/protocol/query.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { CrdtWriter } from "../writes/crdt-writer.ts";
import { InterestRegistry } from "../delivery/interest-registry.ts";
import { LwwStore } from "../writes/lww-store.ts";
import { MerkleStore } from "../writes/merkle-store.ts";
import type { OwnerOp } from "../writes/owner-op.ts";
import { OrStore } from "../writes/or-store.ts";
import type { ConnectionFrames } from "../delivery/home-deliveries.ts";
import type { QueryEvent } from "../delivery/query-events.ts";
import { QueryService } from "./query-service.ts";
import { applySchema } from "../storage/schema.ts";
import type { SqlPort } from "../storage/sql-port.ts";

const alice = { home: 7, conn: "alice" };
const bob = { home: 9, conn: "bob" };
let millis = 100;

function services(sql: SqlPort, unknown: string[] = []) {
  const merkle = new MerkleStore(sql);
  const lww = new LwwStore(sql, merkle);
  const writer = new CrdtWriter({ sql, lww, or: new OrStore(sql, merkle), merkle, hlc: new HLC("edge-p1", { clock: () => 1_000 }) });
  const interest = new InterestRegistry(sql);
  const sent: { home: number; deliveries: ConnectionFrames[] }[] = [];
  const events: { home: number; events: QueryEvent[] }[] = [];
  const queries = new QueryService({
    sql,
    lww,
    interest,
    partition: 1,
    deliver: async (home, deliveries) => {
      sent.push({ home, deliveries });
      return unknown;
    },
    deliverEvents: async (home, list) => {
      events.push({ home, events: list });
      return [];
    },
  });
  const write = async (key: string, value: unknown) => {
    const op: OwnerOp = { index: 0, type: value === null ? "REMOVE" : "PUT", map: "m", key, record: { value, timestamp: { millis: millis++, counter: 0, nodeId: "a" } } };
    await queries.publish(writer.apply([op]).changes);
  };
  /** The QUERY_UPDATE payloads delivered so far, as [conn, queryId, key, changeType, value]. */
  const updates = () =>
    sent.flatMap(({ deliveries }) =>
      deliveries.flatMap(({ conn, frames }) =>
        frames.map((frame) => {
          const { payload } = queryUpdateMessageSchema.parse(decodeMessage(frame));
          return [conn, payload.queryId, payload.key, payload.changeType, payload.value];
        }),
      ),
    );
  return { queries, interest, write, sent, updates, events };
}

function setup(unknown: string[] = []) {
  const sql = nodeSqlPort();
  applySchema(sql);
  return { sql, ...services(sql, unknown) };
}

const adults = { predicate: { op: "gte" as const, attribute: "age", value: 18 } };

describe("QueryService", () => {
  it("answers the matching live records, leaving out tombstones", async () => {
    const { queries, write } = setup();
    await write("a", { age: 20 });
    await write("b", { age: 10 });
    await write("c", { age: 30 });
    await write("c", null);

    const answer = queries.subscribe({ map: "m", queryId: "q", query: adults, subscriber: alice });

    expect(answer).toEqual({ kind: "entries", entries: [{ key: "a", value: { age: 20 } }] });
  });

  it("keeps the best limit + 1 records of a sorted query, scanning more than one page of rows", async () => {
    const { queries, write } = setup();
    for (let i = 0; i < 1200; i++) await write(`k${i}`, { age: 18 + (i % 600), i });

    const answer = queries.subscribe({ map: "m", queryId: "q", query: { ...adults, sort: { age: "desc", i: "asc" }, limit: 3 }, subscriber: alice });

    expect(answer.kind === "entries" && answer.entries.map((r) => r.key)).toEqual(["k599", "k1199", "k598", "k1198"]);
  });

  it("sends ENTER, UPDATE and LEAVE to the subscriber, a delete's LEAVE carrying the deleted value", async () => {
    const { queries, write, updates } = setup();
    queries.subscribe({ map: "m", queryId: "q", query: adults, subscriber: alice });

    await write("k", { age: 20 });
    await write("k", { age: 21 });
    await write("k", { age: 5 });
    await write("j", { age: 40 });
    await write("j", null);
    await write("x", { age: 1 });

    expect(updates()).toEqual([
      ["alice", "q", "k", "ENTER", { age: 20 }],
      ["alice", "q", "k", "UPDATE", { age: 21 }],
      ["alice", "q", "k", "LEAVE", { age: 5 }],
      ["alice", "q", "j", "ENTER", { age: 40 }],
      ["alice", "q", "j", "LEAVE", { age: 40 }],
    ]);
  });

  it("gives a delete's LEAVE the value an earlier op of the same batch wrote", async () => {
    const { sql, queries, updates } = setup();
    const merkle = new MerkleStore(sql);
    const writer = new CrdtWriter({ sql, lww: new LwwStore(sql, merkle), or: new OrStore(sql, merkle), merkle, hlc: new HLC("edge-p1", { clock: () => 1_000 }) });
    queries.subscribe({ map: "m", queryId: "q", query: adults, subscriber: alice });
    const at = (n: number) => ({ millis: millis + n, counter: 0, nodeId: "a" });

    await queries.publish(
      writer.apply([
        { index: 0, type: "PUT", map: "m", key: "k", record: { value: { age: 30 }, timestamp: at(1) } },
        { index: 1, type: "REMOVE", map: "m", key: "k", record: { value: null, timestamp: at(2) } },
      ]).changes,
    );

    expect(updates()).toEqual([
      ["alice", "q", "k", "ENTER", { age: 30 }],
      ["alice", "q", "k", "LEAVE", { age: 30 }],
    ]);
  });

  it("keeps subscriptions and matching keys in SQLite, so a new instance continues them", async () => {
    const { sql, queries, write } = setup();
    await write("k", { age: 20 });
    queries.subscribe({ map: "m", queryId: "q", query: adults, subscriber: alice });

    const woken = services(sql);
    await woken.write("k", { age: 3 });

    expect(woken.updates()).toEqual([["alice", "q", "k", "LEAVE", { age: 3 }]]);
  });

  it("delivers one batch per home with each connection's own updates", async () => {
    const { queries, write, sent } = setup();
    queries.subscribe({ map: "m", queryId: "q1", query: adults, subscriber: alice });
    queries.subscribe({ map: "m", queryId: "q2", query: {}, subscriber: { home: 7, conn: "carol" } });
    queries.subscribe({ map: "m", queryId: "q3", query: {}, subscriber: bob });

    await write("k", { age: 20 });

    expect(sent.map((s) => [s.home, s.deliveries.map((d) => d.conn)])).toEqual([
      [7, ["alice", "carol"]],
      [9, ["bob"]],
    ]);
  });

  it("stops updates after unsubscribe and forgets the connection's query interest", async () => {
    const { queries, interest, write, updates } = setup();
    queries.subscribe({ map: "m", queryId: "q", query: {}, subscriber: alice });
    expect(interest.listeners("m", "lww").get(7)).toEqual(new Set(["alice"]));

    queries.unsubscribe({ queryId: "q", subscriber: alice });
    await write("k", { age: 20 });

    expect(updates()).toEqual([]);
    expect(interest.listeners("m", "lww").size).toBe(0);
  });

  it("replaces a subscription that reuses its query id", async () => {
    const { queries, write, updates } = setup();
    queries.subscribe({ map: "m", queryId: "q", query: {}, subscriber: alice });
    queries.subscribe({ map: "m", queryId: "q", query: adults, subscriber: alice });

    await write("k", { age: 1 });

    expect(updates()).toEqual([]);
  });

  it("drops the subscriptions of a connection its home reports unknown", async () => {
    const { queries, write, sent } = setup(["alice"]);
    queries.subscribe({ map: "m", queryId: "q", query: {}, subscriber: alice });

    await write("k", 1);
    await write("k", 2);

    expect(sent).toHaveLength(1);
  });

  it("evaluates _key against the record key, in the answer and in live updates", async () => {
    const { queries, write, updates } = setup();
    await write("a", { n: 1 });
    await write("b", { n: 2 });
    const byKey = { predicate: { op: "in" as const, attribute: "_key", value: ["b", "c"] } };

    const answer = queries.subscribe({ map: "m", queryId: "q", query: byKey, subscriber: alice });
    await write("c", { n: 3 });
    await write("d", { n: 4 });

    expect(answer).toEqual({ kind: "entries", entries: [{ key: "b", value: { n: 2 } }] });
    expect(updates()).toEqual([["alice", "q", "c", "ENTER", { n: 3 }]]);
  });

  it("projects the values of live updates to the subscription's fields", async () => {
    const { queries, write, updates } = setup();
    queries.subscribe({ map: "m", queryId: "q", query: {}, fields: ["a"], subscriber: alice });

    await write("k", { a: 1, b: 2 });

    expect(updates()).toEqual([["alice", "q", "k", "ENTER", { a: 1 }]]);
  });

  it("answers a grouped query with this owner's partial aggregates and sends new ones to the home after a write", async () => {
    const { queries, write, events, updates } = setup();
    await write("a", { s: "x", v: 2 });
    const query = { groupBy: ["s"], aggregations: [{ func: "sum" as const, field: "v" }] };

    const answer = queries.subscribe({ map: "m", queryId: "q", query, subscriber: alice });
    await write("b", { s: "x", v: 3 });

    expect(answer).toEqual({ kind: "groups", groups: [{ id: '[["s","x"]]', values: ["x"], count: 1, stats: { v: { n: 1, sum: 2, min: 2, max: 2 } } }] });
    expect(events).toEqual([
      { home: 7, events: [{ conn: "alice", queryId: "q", partition: 1, groups: [{ id: '[["s","x"]]', values: ["x"], count: 2, stats: { v: { n: 2, sum: 5, min: 2, max: 3 } } }] }] },
    ]);
    expect(updates()).toEqual([]);
  });

  it("sends a limited query's written keys to its home, null for a key that no longer matches", async () => {
    const { queries, write, events } = setup();
    queries.subscribe({ map: "m", queryId: "q", query: { ...adults, limit: 2 }, subscriber: alice });

    await write("k", { age: 30 });
    await write("k", { age: 3 });

    expect(events.map((e) => e.events[0]?.changes)).toEqual([[{ key: "k", value: { age: 30 } }], [{ key: "k", value: null }]]);
  });

  it("leaves records whose TTL ran out out of answers, as the client hides them", async () => {
    const { sql, queries } = setup();
    const merkle = new MerkleStore(sql);
    const writer = new CrdtWriter({ sql, lww: new LwwStore(sql, merkle), or: new OrStore(sql, merkle), merkle, hlc: new HLC("edge-p1", { clock: () => 1_000 }) });
    const now = Date.now();
    const put = (key: string, ttlMs: number | undefined) =>
      writer.apply([{ index: 0, type: "PUT", map: "m", key, record: { value: { n: 1 }, timestamp: { millis: now - 10_000, counter: 0, nodeId: "a" }, ...(ttlMs ? { ttlMs } : {}) } }]);
    put("expired", 5_000);
    put("fresh", 60_000);
    put("forever", undefined);

    const answer = queries.read({ map: "m", query: {} });

    expect(answer.kind === "entries" && answer.entries.map((e) => e.key).sort()).toEqual(["forever", "fresh"]);
  });

  it("reads and updates the keys every plain subscription of a map holds with one statement each per write", async () => {
    const base = nodeSqlPort();
    applySchema(base);
    const statements: string[] = [];
    const sql: SqlPort = {
      exec: (query, ...bindings) => {
        if (query.includes("query_match")) statements.push(query);
        return base.exec(query, ...bindings);
      },
      transaction: (fn) => base.transaction(fn),
    };
    const { queries, write, updates } = services(sql);
    for (let i = 0; i < 50; i++) queries.subscribe({ map: "m", queryId: `q${i}`, query: adults, subscriber: { home: i % 5, conn: `c${i}` } });
    statements.length = 0;

    await write("k", { age: 20 });
    const entering = statements.length;
    await write("k", { age: 21 });
    const updating = statements.length - entering;
    await write("k", { age: 3 });
    const leaving = statements.length - entering - updating;

    expect([entering, updating, leaving]).toEqual([2, 1, 2]);
    const changeTypes = updates().map(([, , , changeType]) => changeType);
    expect(changeTypes.filter((t) => t === "ENTER")).toHaveLength(50);
    expect(changeTypes.filter((t) => t === "UPDATE")).toHaveLength(50);
    expect(changeTypes.filter((t) => t === "LEAVE")).toHaveLength(50);
    expect(base.exec("SELECT COUNT(*) AS n FROM query_match")[0]?.n).toBe(0);
  });
});
