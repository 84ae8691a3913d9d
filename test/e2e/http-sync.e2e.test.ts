import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { encodeMessage } from "../../core/codec.ts";
import { HLC } from "../../core/hlc.ts";
import type { HttpSyncResponse } from "../../core/protocol/http-sync.ts";
import { putPolicies } from "../support/admin-api.ts";
import { E2E_JWT_SECRET } from "../support/e2e-config.ts";
import { serverUrl, uniqueName } from "../support/e2e-context.ts";
import { apiCall, syncCall, userToken } from "../support/http-api.ts";
import { SignJWT } from "jose";
import { startServer, webSocketUrl, type RunningServer } from "../support/server-harness.ts";
import { lwwPut, lwwRemove, TestClient } from "../support/ws-client.ts";

const hlc = new HLC("http-sync-e2e");
const open = new Set<TestClient>();
afterEach(() => {
  for (const client of open) client.close();
  open.clear();
});

async function socket(user: string, params: Record<string, string>, base = serverUrl()): Promise<TestClient> {
  const client = await TestClient.connect(webSocketUrl(base, params), { token: await userToken(user) });
  open.add(client);
  return client;
}

const request = (extra: Record<string, unknown> = {}) => ({ clientId: uniqueName("backend"), clientHlc: hlc.now(), ...extra });
const sync = async (body: unknown, options: { token?: string | null; namespace?: string; base?: string } = {}) => {
  const token = options.token === undefined ? await userToken("backend") : options.token;
  const answer = await syncCall(options.base ?? serverUrl(), body, { token, ...(options.namespace ? { namespace: options.namespace } : {}) });
  return { ...answer, response: answer.body as HttpSyncResponse };
};

describe("POST /sync: authentication and bad input", () => {
  it("answers 401 JSON without a token or with a bad one", async () => {
    expect(await syncCall(serverUrl(), request(), { token: null })).toMatchObject({ status: 401, body: { code: 401, message: "authentication required" } });
    expect(await syncCall(serverUrl(), request(), { token: "not-a-jwt" })).toMatchObject({ status: 401, body: { code: 401, message: "Authentication failed" } });
  });

  it("answers 400 JSON to a body that does not decode or is not an HttpSyncRequest, and applies nothing", async () => {
    const map = uniqueName("bad");
    const undecodable = await sync(new Uint8Array([0xc1, 0x00]));
    expect(undecodable.status).toBe(400);
    expect(undecodable.body).toEqual({ code: 400, message: "invalid MsgPack body: the body does not decode" });
    const noClient = await sync({ clientHlc: hlc.now(), operations: [lwwPut(map, "k", 1, hlc.now())] });
    expect(noClient.status).toBe(400);
    expect(noClient.body).toMatchObject({ code: 400, message: expect.stringMatching(/^invalid MsgPack body: clientId/) });
    const badOp = await sync(request({ operations: [{ mapName: map }] }));
    expect(badOp.status).toBe(400);
    const deep = new Uint8Array(100_001).fill(0x91); // 100,000 nested one-element arrays around a 0
    deep[100_000] = 0x00;
    expect(await sync(deep)).toMatchObject({ status: 400, body: { code: 400, message: "invalid MsgPack body: nested deeper than 256 levels" } });
    expect((await sync(new Uint8Array(0))).status).toBe(400);
    const read = await sync(request({ queries: [{ queryId: "q", mapName: map }] }));
    expect(read.response.queryResults).toEqual([{ queryId: "q", results: [] }]);
  });

  it("answers 413 to a body over 2 MiB", async () => {
    const big = encodeMessage(request({ operations: [lwwPut(uniqueName("big"), "k", "x".repeat(2 * 1024 * 1024), hlc.now())] }));
    expect((await sync(big)).status).toBe(413);
  });
});

describe("POST /sync: operations, queries, searches and deltas", () => {
  it("applies operations like an OP_BATCH (seen live by a WebSocket client) and answers msgpack with the ack", async () => {
    const map = uniqueName("sync-ops");
    const watcher = await socket("watcher", { map });
    watcher.send({ type: "SYNC_INIT", mapName: map });
    await watcher.waitFor("SYNC_RESP_ROOT");
    const answer = await sync(request({ operations: [lwwPut(map, "a", { n: 1 }, hlc.now(), { id: "op-a" }), lwwPut(map, "b", { n: 2 }, hlc.now(), { id: "op-b" })] }));
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe("application/msgpack");
    expect(answer.response.ack).toEqual({ lastId: "op-b", results: [{ opId: "op-a", success: true, achievedLevel: "APPLIED" }, { opId: "op-b", success: true, achievedLevel: "APPLIED" }] });
    expect(answer.response.serverHlc.millis).toBeGreaterThan(0);
    expect(answer.response.errors).toBeUndefined();
    const event = await watcher.waitFor("SERVER_EVENT", { where: (m) => m.payload.key === "b" });
    expect(event.payload.record?.value).toEqual({ n: 2 });
  });

  it("rejects an op too far ahead of the server clock in errors and results, and applies the rest", async () => {
    const map = uniqueName("sync-drift");
    const future = { millis: Date.now() + 10 * 60_000, counter: 0, nodeId: "future" };
    const answer = await sync(request({ operations: [lwwPut(map, "late", 1, future, { id: "op-future" }), lwwPut(map, "ok", 2, hlc.now(), { id: "op-ok" })] }));
    expect(answer.response.ack?.results?.map((r) => [r.opId, r.success])).toEqual([["op-future", false], ["op-ok", true]]);
    expect(answer.response.errors).toEqual([{ code: 409, message: expect.any(String), context: "op-future" }]);
  });

  it("answers one-shot queries (values ordered by key, offset and limit, cursor) and searches", async () => {
    const map = uniqueName("sync-read");
    const ws = await socket("writer", { map });
    await ws.write(["c", "a", "d", "b"].map((key, i) => lwwPut(map, key, { key, kind: i % 2 === 0 ? "even" : "odd", text: `note ${key} about apples` }, hlc.now(), { id: `w-${key}` })));
    const answer = await sync(
      request({
        queries: [
          { queryId: "all", mapName: map },
          { queryId: "even", mapName: map, filter: { kind: "even" } },
          { queryId: "page", mapName: map, offset: 1, limit: 2 },
          { queryId: "bad-cursor", mapName: map, cursor: "nope" },
        ],
        searches: [{ searchId: "s", mapName: map, query: "apples", options: { limit: 10 } }],
      }),
    );
    const results = Object.fromEntries((answer.response.queryResults ?? []).map((q) => [q.queryId, (q.results as { key: string }[]).map((v) => v.key)]));
    expect(results).toEqual({ all: ["a", "b", "c", "d"], even: ["c", "d"], page: ["b", "c"], "bad-cursor": [] });
    expect(answer.response.errors).toEqual([{ code: 400, message: "invalid or expired cursor", context: "bad-cursor" }]);
    expect(answer.response.searchResults?.[0]).toMatchObject({ searchId: "s", totalCount: 4 });
  });

  it("reports each synced map's changes after lastSyncTimestamp, tombstones included, and where to continue", async () => {
    const map = uniqueName("sync-delta");
    const ws = await socket("writer", { map });
    const t1 = hlc.now();
    await ws.write([lwwPut(map, "old", 1, t1, { id: "o" })]);
    const t2 = hlc.now();
    const t3 = hlc.now();
    await ws.write([lwwPut(map, "new", 2, t2, { id: "n" }), lwwRemove(map, "old", t3, { id: "r" })]);
    const answer = await sync(request({ syncMaps: [{ mapName: map, lastSyncTimestamp: t1 }] }));
    expect(answer.response.deltas).toEqual([
      {
        mapName: map,
        records: [
          { key: "new", record: { value: 2, timestamp: t2 }, eventType: "PUT" },
          { key: "old", record: { value: null, timestamp: t3 }, eventType: "REMOVE" },
        ],
        serverSyncTimestamp: t3,
      },
    ]);
    const caughtUp = await sync(request({ syncMaps: [{ mapName: map, lastSyncTimestamp: t3 }] }));
    expect(caughtUp.response.deltas).toEqual([{ mapName: map, records: [], serverSyncTimestamp: t3 }]);
  });
});

describe("POST /sync: access policies", () => {
  it("reports denied ops (not applied) and denied reads in errors, and applies the allowed ops", async () => {
    const namespace = uniqueName("sync-policy");
    await putPolicies(serverUrl(), namespace, [{ mapPattern: "todos", action: "all", effect: "allow", conditionExpr: "auth.id == data.ownerId" }]);
    const bob = await userToken("bob");
    const answer = await sync(
      request({
        operations: [lwwPut("todos", "mine", { ownerId: "bob" }, hlc.now(), { id: "op-mine" }), lwwPut("todos", "theirs", { ownerId: "alice" }, hlc.now(), { id: "op-theirs" })],
        queries: [{ queryId: "secrets", mapName: "secrets" }, { queryId: "todos", mapName: "todos" }],
        searches: [{ searchId: "s", mapName: "secrets", query: "x" }],
        syncMaps: [{ mapName: "secrets", lastSyncTimestamp: { millis: 0, counter: 0, nodeId: "" } }],
      }),
      { token: bob, namespace },
    );
    expect(answer.status).toBe(200);
    expect(answer.response.ack?.results?.map((r) => [r.opId, r.success])).toEqual([["op-mine", true], ["op-theirs", false]]);
    expect(answer.response.errors).toEqual([
      { code: 403, message: "forbidden: write access denied for map: todos", context: "op-theirs" },
      { code: 403, message: "access denied", context: "secrets" },
      { code: 403, message: "access denied", context: "s" },
      { code: 403, message: "access denied", context: "secrets" },
    ]);
    expect(answer.response.queryResults).toEqual([{ queryId: "secrets", results: [] }, { queryId: "todos", results: [{ ownerId: "bob" }] }]);
    const alice = await userToken("alice");
    const aliceView = await sync(request({ queries: [{ queryId: "todos", mapName: "todos" }] }), { token: alice, namespace });
    expect(aliceView.response.queryResults).toEqual([{ queryId: "todos", results: [] }]);
  });
});

describe("a server with TOPGUN_HTTP_SYNC_ANONYMOUS=1 and tenancy (TOPGUN_NAMESPACE_CLAIM)", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ jwtSecret: E2E_JWT_SECRET, settings: { TOPGUN_HTTP_SYNC_ANONYMOUS: "1", TOPGUN_NAMESPACE_CLAIM: "tenant", TOPGUN_ADMIN_SUBJECTS: "ops" } });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("accepts a request without a token as an anonymous principal under the policies, and still refuses a bad token", async () => {
    const namespace = uniqueName("anon");
    await putPolicies(server.url, namespace, [
      { mapPattern: "public", action: "all", effect: "allow" },
      { mapPattern: "owned", action: "all", effect: "allow", conditionExpr: "auth.id == data.ownerId" },
    ]);
    const answer = await sync(
      request({ operations: [lwwPut("public", "p", { hello: 1 }, hlc.now(), { id: "op-p" }), lwwPut("owned", "o", { ownerId: null }, hlc.now(), { id: "op-o" })] }),
      { token: null, namespace, base: server.url },
    );
    expect(answer.status).toBe(200);
    expect(answer.response.ack?.results?.map((r) => [r.opId, r.success])).toEqual([["op-p", true], ["op-o", false]]);
    expect((await sync(request(), { token: "not-a-jwt", namespace, base: server.url })).status).toBe(401);
    expect((await syncCall(server.url, request(), { token: null })).status).toBe(200);
  });

  it("lets a tenant's token reach its own namespace only, over /v1 and /sync", async () => {
    const key = new TextEncoder().encode(E2E_JWT_SECRET);
    const token = await new SignJWT({ roles: [], tenant: "acme" }).setProtectedHeader({ alg: "HS256" }).setSubject("worker").setIssuedAt().setExpirationTime("1h").sign(key);
    const own = await apiCall(server.url, "/v1/maps/m/records/k", { method: "PUT", token, namespace: "acme", body: { value: 1 } });
    expect(own.status).toBe(200);
    const other = await apiCall(server.url, "/v1/maps/m/records/k", { token, namespace: "globex" });
    expect(other).toMatchObject({ status: 403, body: { error: { code: "forbidden", message: expect.stringMatching(/^NamespaceMismatch/) } } });
    expect((await apiCall(server.url, "/v1/maps/m/records/k", { token })).status).toBe(403);
    expect((await sync(request(), { token, namespace: "globex", base: server.url })).status).toBe(403);
    expect((await sync(request({ queries: [{ queryId: "q", mapName: "m" }] }), { token, namespace: "acme", base: server.url })).response.queryResults).toEqual([{ queryId: "q", results: [1] }]);
  });
});
