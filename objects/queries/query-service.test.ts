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
  const queries = new QueryService({
    sql,
    interest,
    deliver: async (home, deliveries) => {
      sent.push({ home, deliveries });
      return unknown;
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
  return { queries, interest, write, sent, updates };
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

    const results = queries.subscribe({ map: "m", queryId: "q", query: adults, subscriber: alice });

    expect(results).toEqual([{ key: "a", value: { age: 20 } }]);
  });

  it("keeps the best limit + 1 records of a sorted query, scanning more than one page of rows", async () => {
    const { queries, write } = setup();
    for (let i = 0; i < 1200; i++) await write(`k${i}`, { age: 18 + (i % 600), i });

    const results = queries.subscribe({ map: "m", queryId: "q", query: { ...adults, sort: { age: "desc", i: "asc" }, limit: 3 }, subscriber: alice });

    expect(results.map((r) => r.key)).toEqual(["k599", "k1199", "k598", "k1198"]);
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
});
