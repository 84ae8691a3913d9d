import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { partitionOf, parseShardConfig } from "../../core/placement.ts";
import type { PredicateNode, Query } from "../../core/protocol/shared.ts";
import { SHARDED_MAP, SHARDED_MAP_SHARDS } from "../support/e2e-config.ts";
import { clientPool, uniqueName } from "../support/e2e-context.ts";
import { lwwPut, lwwRemove, type MessageOf, type TestClient } from "../support/ws-client.ts";

const clients = clientPool();
const hlc = new HLC("querier");

async function subscribe(client: TestClient, map: string, query: Query, queryId = uniqueName("q")): Promise<MessageOf<"QUERY_RESP">> {
  client.send({ type: "QUERY_SUB", payload: { queryId, mapName: map, query } });
  return client.waitFor("QUERY_RESP", { description: `QUERY_RESP ${queryId}`, where: (m) => m.payload.queryId === queryId });
}

function waitForUpdate(client: TestClient, queryId: string, key: string, changeType: "ENTER" | "UPDATE" | "LEAVE") {
  return client.waitFor("QUERY_UPDATE", {
    description: `QUERY_UPDATE ${changeType} ${queryId}/${key}`,
    where: (m) => m.payload.queryId === queryId && m.payload.key === key && m.payload.changeType === changeType,
  });
}

async function putAll(client: TestClient, map: string, records: Record<string, unknown>): Promise<void> {
  await client.write(Object.entries(records).map(([key, value]) => lwwPut(map, key, value, hlc.now())));
}

const keysOf = (resp: MessageOf<"QUERY_RESP">) => resp.payload.results.map((r) => r.key);

describe("live queries", () => {
  it("answers QUERY_SUB with the live records, leaving out tombstones", async () => {
    const map = uniqueName("snap");
    const client = await clients.authed({ map });
    await putAll(client, map, { a: { n: 1 }, b: { n: 2 }, c: { n: 3 } });
    await client.write([lwwRemove(map, "b", hlc.now())]);

    const resp = await subscribe(client, map, {});

    expect(resp.payload.results).toEqual([
      { key: "a", value: { n: 1 } },
      { key: "c", value: { n: 3 } },
    ]);
    expect(resp.payload.hasMore).toBeUndefined();
    expect(resp.payload.nextCursor).toBeUndefined();
  });

  it("sends ENTER, UPDATE and LEAVE to the subscriber, the writer itself included", async () => {
    const map = uniqueName("live");
    const client = await clients.authed({ map });
    const queryId = uniqueName("q");
    await subscribe(client, map, { predicate: { op: "gte", attribute: "age", value: 18 } }, queryId);

    await putAll(client, map, { k: { age: 20 } });
    expect((await waitForUpdate(client, queryId, "k", "ENTER")).payload.value).toEqual({ age: 20 });
    await putAll(client, map, { k: { age: 21 } });
    expect((await waitForUpdate(client, queryId, "k", "UPDATE")).payload.value).toEqual({ age: 21 });
    await putAll(client, map, { k: { age: 3 } });
    expect((await waitForUpdate(client, queryId, "k", "LEAVE")).payload.value).toEqual({ age: 3 });
    await putAll(client, map, { j: { age: 30 } });
    await waitForUpdate(client, queryId, "j", "ENTER");
    await client.write([lwwRemove(map, "j", hlc.now())]);
    expect((await waitForUpdate(client, queryId, "j", "LEAVE")).payload.value).toEqual({ age: 30 });
  });

  it("delivers QUERY_UPDATE before the writer's OP_ACK", async () => {
    const map = uniqueName("order");
    const client = await clients.authed({ map });
    const queryId = uniqueName("q");
    await subscribe(client, map, {}, queryId);

    await putAll(client, map, { k: 1 });

    const types = client.history.map((f) => f.type);
    expect(types.lastIndexOf("QUERY_UPDATE")).toBeLessThan(types.lastIndexOf("OP_ACK"));
  });

  it("pages a sorted, limited query with nextCursor and hasMore", async () => {
    const map = uniqueName("page");
    const client = await clients.authed({ map });
    await putAll(client, map, { a: { s: 5 }, b: { s: 1 }, c: { s: 4 }, d: { s: 2 }, e: { s: 3 } });
    const query: Query = { sort: { s: "asc" }, limit: 2 };

    const first = await subscribe(client, map, query);
    const second = await subscribe(client, map, { ...query, cursor: first.payload.nextCursor });
    const third = await subscribe(client, map, { ...query, cursor: second.payload.nextCursor });

    expect([keysOf(first), first.payload.hasMore]).toEqual([["b", "d"], true]);
    expect([keysOf(second), second.payload.hasMore]).toEqual([["e", "c"], true]);
    expect([keysOf(third), third.payload.hasMore, third.payload.nextCursor]).toEqual([["a"], undefined, undefined]);
  });

  it("sorts by two keys in order, a missing field last when ascending", async () => {
    const map = uniqueName("sort2");
    const client = await clients.authed({ map });
    await putAll(client, map, {
      a: { team: "red", score: 2 },
      b: { team: "blue", score: 5 },
      c: { team: "red", score: 9 },
      d: { score: 7 },
      e: { team: "blue", score: 8 },
    });

    const resp = await subscribe(client, map, { sort: { team: "asc", score: "desc" } });

    expect(keysOf(resp)).toEqual(["e", "b", "c", "a", "d"]);
  });

  it("evaluates every predicate operator (comparisons, like, regex, contains*, neq on a missing field, and/or/not) over the wire", async () => {
    const map = uniqueName("ops");
    const client = await clients.authed({ map });
    await putAll(client, map, {
      alice: { name: "Alice Smith", age: 30 },
      bob: { name: "Bob Jones", age: 17, banned: true },
      carol: { name: "Carol Smythe", age: 45 },
      plain: "not a map",
    });
    const cases: [PredicateNode, string[]][] = [
      [{ op: "like", attribute: "name", value: "%sm_th%" }, ["alice", "carol"]],
      [{ op: "regex", attribute: "name", value: "^B.b " }, ["bob"]],
      [{ op: "contains", attribute: "name", value: "JONES" }, ["bob"]],
      [{ op: "containsAll", attribute: "name", value: ["carol", "smythe"] }, ["carol"]],
      [{ op: "containsAny", attribute: "name", value: ["bob", "alice"] }, ["alice", "bob"]],
      [{ op: "neq", attribute: "banned", value: true }, ["alice", "carol"]],
      [{ op: "eq", attribute: "age", value: 45 }, ["carol"]],
      [{ op: "gt", attribute: "age", value: 30 }, ["carol"]],
      [{ op: "gte", attribute: "age", value: 30 }, ["alice", "carol"]],
      [{ op: "lt", attribute: "age", value: 30 }, ["bob"]],
      [{ op: "lte", attribute: "age", value: 30 }, ["alice", "bob"]],
      [
        {
          op: "and",
          children: [
            { op: "or", children: [{ op: "lt", attribute: "age", value: 18 }, { op: "gt", attribute: "age", value: 40 }] },
            { op: "not", children: [{ op: "eq", attribute: "banned", value: true }] },
          ],
        },
        ["carol"],
      ],
    ];

    for (const [predicate, expected] of cases) {
      expect(keysOf(await subscribe(client, map, { predicate })), JSON.stringify(predicate)).toEqual(expected);
    }
    expect(keysOf(await subscribe(client, map, { where: { age: 17 } }))).toEqual(["bob"]);
  });

  it("merges the shards of a sharded map into one sorted, limited answer", async () => {
    const run = uniqueName("run");
    const client = await clients.authed();
    const keys = Array.from({ length: 12 }, (_, i) => `${run}-${i}`);
    const config = parseShardConfig(`${SHARDED_MAP}:${SHARDED_MAP_SHARDS}`);
    expect(new Set(keys.map((key) => partitionOf(config, SHARDED_MAP, key))).size).toBeGreaterThan(1);
    await putAll(client, SHARDED_MAP, Object.fromEntries(keys.map((key, i) => [key, { run, i }])));
    const predicate: PredicateNode = { op: "eq", attribute: "run", value: run };

    const all = await subscribe(client, SHARDED_MAP, { predicate, sort: { i: "desc" } });
    const page = await subscribe(client, SHARDED_MAP, { predicate, sort: { i: "asc" }, limit: 5 });
    const rest = await subscribe(client, SHARDED_MAP, { predicate, sort: { i: "asc" }, limit: 10, cursor: page.payload.nextCursor });

    expect(keysOf(all)).toEqual([...keys].reverse());
    expect([keysOf(page), page.payload.hasMore]).toEqual([keys.slice(0, 5), true]);
    expect([keysOf(rest), rest.payload.hasMore]).toEqual([keys.slice(5), undefined]);
  });

  it("delivers QUERY_UPDATE and SERVER_EVENT to a subscriber on another home partition", async () => {
    const map = uniqueName("remote");
    const writer = await clients.authed({ map });
    const reader = await clients.authed({ clientId: uniqueName("reader") });
    const queryId = uniqueName("q");
    await subscribe(reader, map, { where: { color: "red" } }, queryId);

    await putAll(writer, map, { k: { color: "red" } });

    expect((await waitForUpdate(reader, queryId, "k", "ENTER")).payload.value).toEqual({ color: "red" });
    await reader.waitFor("SERVER_EVENT", { where: (m) => m.payload.mapName === map && m.payload.key === "k" });
  });

  it("stops updates after QUERY_UNSUB", async () => {
    const map = uniqueName("unsub");
    const client = await clients.authed({ map });
    const queryId = uniqueName("q");
    await subscribe(client, map, {}, queryId);

    client.send({ type: "QUERY_UNSUB", payload: { queryId } });
    await putAll(client, map, { k: 1 });
    await client.barrier();

    expect(client.collect("QUERY_UPDATE")).toEqual([]);
  });

  it("answers a cursor that does not belong to the query's sort with ERROR", async () => {
    const map = uniqueName("badcursor");
    const client = await clients.authed({ map });

    client.send({ type: "QUERY_SUB", payload: { queryId: "q", mapName: map, query: { limit: 1, cursor: "nope" } } });

    expect((await client.waitFor("ERROR")).payload.code).toBe(422);
  });

  it("sends live ENTER, UPDATE and LEAVE from every shard of a sharded map to a subscriber on another home", async () => {
    const run = uniqueName("run");
    const writer = await clients.authed();
    const reader = await clients.authed({ clientId: uniqueName("reader") });
    const config = parseShardConfig(`${SHARDED_MAP}:${SHARDED_MAP_SHARDS}`);
    const keys = Array.from({ length: 8 }, (_, i) => `${run}-${i}`);
    expect(new Set(keys.map((key) => partitionOf(config, SHARDED_MAP, key))).size).toBeGreaterThan(1);
    const queryId = uniqueName("q");
    await subscribe(reader, SHARDED_MAP, { where: { run } }, queryId);

    await putAll(writer, SHARDED_MAP, Object.fromEntries(keys.map((key, i) => [key, { run, i }])));
    for (const key of keys) await waitForUpdate(reader, queryId, key, "ENTER");
    await putAll(writer, SHARDED_MAP, Object.fromEntries(keys.map((key, i) => [key, { run, i: i + 100 }])));
    for (const key of keys) await waitForUpdate(reader, queryId, key, "UPDATE");
    await writer.write(keys.map((key) => lwwRemove(SHARDED_MAP, key, hlc.now())));

    const left = await Promise.all(keys.map((key) => waitForUpdate(reader, queryId, key, "LEAVE")));
    expect(left.map((m) => m.payload.value)).toEqual(keys.map((_, i) => ({ run, i: i + 100 })));
  });
});
