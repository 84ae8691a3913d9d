import { afterEach, describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { putPolicies } from "../support/admin-api.ts";
import { serverUrl, uniqueName } from "../support/e2e-context.ts";
import { apiCall, userToken } from "../support/http-api.ts";
import { webSocketUrl } from "../support/server-harness.ts";
import { lwwPut, TestClient } from "../support/ws-client.ts";
import { TopGunHttp } from "../../client/http/http-client.ts";

const open = new Set<TestClient>();
afterEach(() => {
  for (const client of open) client.close();
  open.clear();
});

async function socket(user: string, params: Record<string, string>): Promise<TestClient> {
  const client = await TestClient.connect(webSocketUrl(serverUrl(), params), { token: await userToken(user) });
  open.add(client);
  return client;
}

const api = async (path: string, request: Parameters<typeof apiCall>[2] = {}) => apiCall(serverUrl(), path, { token: await userToken("backend"), ...request });
const path = (map: string, key?: string) => `/v1/maps/${encodeURIComponent(map)}/records${key === undefined ? "" : `/${encodeURIComponent(key)}`}`;

describe("/v1: authentication", () => {
  it("answers 401 without a token, with a malformed header or with a token signed by another key, and reads nothing", async () => {
    const map = uniqueName("secret");
    expect((await api(path(map, "k"), { method: "PUT", body: { value: 1 } })).status).toBe(200);
    expect(await apiCall(serverUrl(), path(map, "k"))).toEqual({ status: 401, body: { error: { code: "unauthorized", message: "authentication required" } } });
    const badHeader = await fetch(new URL(path(map, "k"), serverUrl()), { headers: { Authorization: "Basic abc" } });
    expect(badHeader.status).toBe(401);
    const wrongKey = await import("../support/tokens.ts").then((t) => t.signToken({ sub: "x", secret: "another" }));
    expect((await apiCall(serverUrl(), path(map), { token: wrongKey })).status).toBe(401);
    expect((await apiCall(serverUrl(), "/v1/journal", { token: "not-a-jwt" })).status).toBe(401);
  });
});

describe("/v1: records", () => {
  it("writes, reads and deletes one record (keys with slashes and spaces included); a missing record is 404", async () => {
    const map = uniqueName("records");
    const key = "a/b c";
    const put = await api(path(map, key), { method: "PUT", body: { value: { title: "hello", n: 1 } } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ key, value: { title: "hello", n: 1 }, timestamp: { millis: expect.any(Number), counter: expect.any(Number), nodeId: expect.stringMatching(/^edge-p/) } });
    expect(await api(path(map, key))).toMatchObject({ status: 200, body: { key, value: { title: "hello", n: 1 }, timestamp: (put.body as { timestamp: unknown }).timestamp } });
    expect(await api(path(map, key), { method: "DELETE" })).toEqual({ status: 204, body: undefined });
    expect(await api(path(map, key))).toEqual({ status: 404, body: { error: { code: "not_found", message: `no record ${key} in ${map}` } } });
  });

  it("lists with a filter, a sort, a limit and a cursor", async () => {
    const map = uniqueName("people");
    const batch = await api("/v1/batch", {
      method: "POST",
      body: { ops: [["ann", 31], ["bob", 25], ["cid", 40], ["dan", 35], ["eve", 19]].map(([key, age]) => ({ map, key, value: { name: key, age } })) },
    });
    expect(batch).toEqual({ status: 200, body: { results: Array.from({ length: 5 }, () => ({ ok: true })) } });
    const filter = JSON.stringify({ op: "gte", attribute: "age", value: 30 });
    const first = await api(`${path(map)}?filter=${encodeURIComponent(filter)}&sort=age:desc&limit=2`);
    expect(first.status).toBe(200);
    const page1 = first.body as { records: { key: string }[]; nextCursor: string; hasMore: boolean };
    expect(page1.records.map((r) => r.key)).toEqual(["cid", "dan"]);
    expect(page1.hasMore).toBe(true);
    const second = await api(`${path(map)}?filter=${encodeURIComponent(filter)}&sort=age:desc&limit=2&cursor=${encodeURIComponent(page1.nextCursor)}`);
    expect((second.body as { records: { key: string }[] }).records.map((r) => r.key)).toEqual(["ann"]);
    const posted = await api(`/v1/maps/${map}/query`, { method: "POST", body: { where: { age: 25 } } });
    expect(posted).toEqual({ status: 200, body: { records: [{ key: "bob", value: { name: "bob", age: 25 } }], hasMore: false } });
  });

  it("answers bad input with 400 (or 413) and writes nothing", async () => {
    const map = uniqueName("bad");
    const bad = [
      await api(path(map, "k"), { method: "PUT", body: "{not json" }),
      await api(path(map, "k"), { method: "PUT", body: { title: "no value field" } }),
      await api(path(map, "k"), { method: "PUT", body: { value: null } }),
      await api(`${path(map)}?filter=${encodeURIComponent("{")}`),
      await api(`${path(map)}?filter=${encodeURIComponent(JSON.stringify({ op: "nope" }))}`),
      await api(`${path(map)}?sort=age:sideways`),
      await api(`${path(map)}?limit=-1`),
      await api("/v1/batch", { method: "POST", body: { ops: [] } }),
      await api(`${path(map)}?cursor=garbage`),
    ];
    for (const answer of bad) {
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: "bad_request", message: expect.any(String) } });
    }
    const huge = await api(path(map, "k"), { method: "PUT", body: { value: "x".repeat(2 * 1024 * 1024 + 10) } });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ error: { code: "payload_too_large" } });
    expect((await api(path(map))).body).toEqual({ records: [], hasMore: false });
    expect(await api("/v1/nothing-here")).toEqual({ status: 404, body: { error: { code: "not_found", message: "no such route" } } });
  });

  it("shows an HTTP write live to a WebSocket query, and reads a WebSocket write over HTTP", async () => {
    const map = uniqueName("live");
    const watcher = await socket("watcher", { map });
    watcher.send({ type: "QUERY_SUB", payload: { queryId: "q", mapName: map, query: {} } });
    await watcher.waitFor("QUERY_RESP");
    await api(path(map, "from-http"), { method: "PUT", body: { value: { via: "http" } } });
    const update = await watcher.waitFor("QUERY_UPDATE", { where: (m) => m.payload.key === "from-http" });
    expect(update.payload).toMatchObject({ value: { via: "http" }, changeType: "ENTER" });

    await watcher.write([lwwPut(map, "from-ws", { via: "ws" }, new HLC("ws-writer").now(), { id: "w1" })]);
    expect(await api(path(map, "from-ws"))).toMatchObject({ status: 200, body: { key: "from-ws", value: { via: "ws" }, timestamp: { nodeId: "ws-writer" } } });
  });
});

describe("/v1: OR-Maps, topics, counters, processors and the journal", () => {
  it("adds values to an OR-Map key, reads them with their tags, and removes by value and by tag", async () => {
    const map = uniqueName("tags");
    const a = await api(`/v1/ormaps/${map}/records/doc`, { method: "POST", body: { value: "red" } });
    const b = await api(`/v1/ormaps/${map}/records/doc`, { method: "POST", body: { value: "blue" } });
    expect(a.status).toBe(201);
    const tagOf = (answer: { body: unknown }) => (answer.body as { tag: string }).tag;
    const read = await api(`/v1/ormaps/${map}/records/doc`);
    expect((read.body as { values: { value: string }[] }).values.map((v) => v.value).sort()).toEqual(["blue", "red"]);
    expect(await api(`/v1/ormaps/${map}/records/doc/remove`, { method: "POST", body: { value: "red" } })).toEqual({ status: 200, body: { removed: [tagOf(a)] } });
    expect(await api(`/v1/ormaps/${map}/records/doc/remove`, { method: "POST", body: { tag: tagOf(b) } })).toEqual({ status: 200, body: { removed: [tagOf(b)] } });
    expect(await api(`/v1/ormaps/${map}/records/doc`)).toEqual({ status: 200, body: { key: "doc", values: [] } });
  });

  it("publishes to a topic that a WebSocket client hears", async () => {
    const topic = uniqueName("news");
    const listener = await socket("listener", {});
    listener.send({ type: "TOPIC_SUB", payload: { topic } });
    await listener.barrier();
    expect(await api(`/v1/topics/${topic}/publish`, { method: "POST", body: { data: { headline: "hi" } } })).toEqual({ status: 204, body: undefined });
    const message = await listener.waitFor("TOPIC_MESSAGE");
    expect(message.payload).toMatchObject({ topic, data: { headline: "hi" } });
    expect((await api("/v1/topics/bad topic!/publish", { method: "POST", body: { data: 1 } })).status).toBe(400);
  });

  it("reads and changes a PN counter; concurrent changes all count", async () => {
    const name = uniqueName("visits");
    expect(await api(`/v1/counters/${name}`)).toEqual({ status: 200, body: { name, value: 0, state: { p: {}, n: {} } } });
    await Promise.all(Array.from({ length: 10 }, () => api(`/v1/counters/${name}`, { method: "POST", body: { delta: 2 } })));
    const after = await api(`/v1/counters/${name}`, { method: "POST", body: { delta: -5 } });
    expect(after.body).toMatchObject({ name, value: 15 });
    expect((await api(`/v1/counters/${name}`, { method: "POST", body: { delta: 1.5 } })).status).toBe(400);
  });

  it("runs a built-in entry processor, and refuses an unknown one with 400", async () => {
    const map = uniqueName("stock");
    await api(path(map, "apples"), { method: "PUT", body: { value: 3 } });
    expect(await api(`${path(map, "apples")}/process`, { method: "POST", body: { processor: "increment", args: 4 } })).toEqual({ status: 200, body: { result: 7, newValue: 7 } });
    expect(await api(path(map, "apples"))).toMatchObject({ status: 200, body: { key: "apples", value: 7 } });
    const unknown = await api(`${path(map, "apples")}/process`, { method: "POST", body: { processor: "eval", args: "1" } });
    expect(unknown.status).toBe(400);
  });

  it("reads a map's journal", async () => {
    const map = uniqueName("journal");
    await api(path(map, "k"), { method: "PUT", body: { value: "v1" } });
    await api(path(map, "k"), { method: "PUT", body: { value: "v2" } });
    const journal = await api(`/v1/journal?map=${map}`);
    expect(journal.status).toBe(200);
    const events = (journal.body as { events: { type: string; key: string; value: unknown }[] }).events;
    expect(events.map((e) => [e.type, e.key, e.value])).toEqual([["PUT", "k", "v1"], ["UPDATE", "k", "v2"]]);
  });

  it("runs SQL over a map, and refuses what it does not support with 400", async () => {
    const map = uniqueName("sql_http").replace(/-/g, "_");
    await api("/v1/batch", { method: "POST", body: { ops: [1, 2, 3, 4].map((n) => ({ map, key: `k${n}`, value: { team: n % 2 ? "odd" : "even", n } })) } });
    const grouped = await api("/v1/sql", { method: "POST", body: { sql: `SELECT team, SUM(n) AS total FROM ${map} GROUP BY team ORDER BY team` } });
    expect(grouped).toEqual({ status: 200, body: { columns: ["team", "total"], rows: [["even", 6], ["odd", 4]] } });
    const join = await api("/v1/sql", { method: "POST", body: { sql: `SELECT * FROM ${map} JOIN other ON 1 = 1` } });
    expect(join.status).toBe(400);
    expect((join.body as { error: { message: string } }).error.message).toMatch(/JOIN/);
    expect((await api("/v1/sql", { method: "POST", body: { sql: "" } })).status).toBe(400);
  });

  it("serves its OpenAPI document without a token", async () => {
    const doc = await apiCall(serverUrl(), "/v1/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.body).toMatchObject({ openapi: "3.1.0", paths: expect.objectContaining({ "/v1/maps/{map}/records/{key}": expect.any(Object) }) });
  });
});

describe("topgun-edge/http: the typed client against the server", () => {
  it("writes, reads, queries, counts and syncs through TopGunHttp", async () => {
    const http = new TopGunHttp({ baseUrl: serverUrl(), token: () => userToken("typed-client") });
    const map = uniqueName("typed");
    await http.put(map, "a", { n: 1 });
    expect(await http.get(map, "a")).toMatchObject({ key: "a", value: { n: 1 } });
    expect(await http.get(map, "nope")).toBeUndefined();
    expect(await http.batch([{ map, key: "b", value: { n: 2 } }, { map, key: "a", delete: true }])).toEqual([{ ok: true }, { ok: true }]);
    expect((await http.query(map, { where: { n: 2 } })).records).toEqual([{ key: "b", value: { n: 2 } }]);
    expect((await http.addToCounter(uniqueName("c"), 3)).value).toBe(3);
    const synced = await http.sync({ clientId: "typed", clientHlc: new HLC("typed").now(), queries: [{ queryId: "q", mapName: map }] });
    expect(synced.queryResults).toEqual([{ queryId: "q", results: [{ n: 2 }] }]);
    const anonymous = new TopGunHttp({ baseUrl: serverUrl() });
    await expect(anonymous.get(map, "b")).rejects.toMatchObject({ status: 401, code: "unauthorized" });
  });
});

describe("/v1: access policies", () => {
  /** A namespace where users read and write their own todos only, and nothing else. */
  async function todoNamespace(): Promise<string> {
    const namespace = uniqueName("todo-http");
    await putPolicies(serverUrl(), namespace, [{ mapPattern: "todos", action: "all", effect: "allow", conditionExpr: "auth.id == data.ownerId" }]);
    return namespace;
  }

  it("lets a user write and read their own records and nobody else's", async () => {
    const namespace = await todoNamespace();
    const alice = await userToken("alice");
    const bob = await userToken("bob");
    expect((await apiCall(serverUrl(), path("todos", "t1"), { method: "PUT", token: alice, namespace, body: { value: { ownerId: "alice", title: "mine" } } })).status).toBe(200);
    const planted = await apiCall(serverUrl(), path("todos", "t2"), { method: "PUT", token: bob, namespace, body: { value: { ownerId: "alice", title: "planted" } } });
    expect(planted).toEqual({ status: 403, body: { error: { code: "forbidden", message: "forbidden: write access denied for map: todos" } } });
    expect((await apiCall(serverUrl(), path("todos", "t1"), { token: alice, namespace })).status).toBe(200);
    expect((await apiCall(serverUrl(), path("todos", "t1"), { token: bob, namespace })).status).toBe(404);
    expect(await apiCall(serverUrl(), path("todos"), { token: bob, namespace })).toEqual({ status: 200, body: { records: [], hasMore: false } });
    expect((await apiCall(serverUrl(), path("todos", "t1"), { method: "DELETE", token: bob, namespace })).status).toBe(403);
    const batch = await apiCall(serverUrl(), "/v1/batch", { method: "POST", token: bob, namespace, body: { ops: [{ map: "todos", key: "b1", value: { ownerId: "bob" } }, { map: "todos", key: "t1", delete: true }] } });
    expect(batch.body).toEqual({ results: [{ ok: true }, { ok: false, error: { code: "forbidden", message: "forbidden: write access denied for map: todos" } }] });
    expect(await apiCall(serverUrl(), path("todos", "t1"), { token: alice, namespace })).toMatchObject({ status: 200, body: { key: "t1", value: { ownerId: "alice", title: "mine" } } });
  });

  it("gives a user without any allowed resource nothing through any route", async () => {
    const namespace = await todoNamespace();
    const eve = await userToken("eve");
    const call = (p: string, request: Parameters<typeof apiCall>[2] = {}) => apiCall(serverUrl(), p, { token: eve, namespace, ...request });
    const answers = [
      await call(path("secrets")),
      await call(path("secrets", "k")),
      await call(path("secrets", "k"), { method: "PUT", body: { value: 1 } }),
      await call(path("secrets", "k"), { method: "DELETE" }),
      await call("/v1/maps/secrets/query", { method: "POST", body: {} }),
      await call(`${path("secrets", "k")}/process`, { method: "POST", body: { processor: "increment" } }),
      await call("/v1/ormaps/secrets/records/k"),
      await call("/v1/ormaps/secrets/records/k", { method: "POST", body: { value: 1 } }),
      await call("/v1/ormaps/secrets/records/k/remove", { method: "POST", body: { value: 1 } }),
      await call("/v1/topics/secrets/publish", { method: "POST", body: { data: 1 } }),
      await call("/v1/counters/secrets"),
      await call("/v1/counters/secrets", { method: "POST", body: { delta: 1 } }),
      await call("/v1/journal"),
      await call("/v1/journal?map=todos"),
      await call("/v1/sql", { method: "POST", body: { sql: "SELECT * FROM secrets" } }),
    ];
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: answers.length }, () => 403));
    for (const a of answers) expect(a.body).toMatchObject({ error: { code: "forbidden" } });
  });
});
