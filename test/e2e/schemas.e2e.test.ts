// Map JSON Schemas end to end: set through the admin plane, enforced on every write path (WebSocket ops, OR-Map adds,
// /v1 and /v1/batch), readable by the map's readers, and durable across a crash of the server.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { SchemaViolationError } from "../../client/map-schemas.ts";
import { HLC } from "../../core/hlc.ts";
import { adminCall, putPolicies } from "../support/admin-api.ts";
import { E2E_JWT_SECRET } from "../support/e2e-config.ts";
import { clientPool, serverUrl, uniqueName } from "../support/e2e-context.ts";
import { CLIENT_WAIT, clientPool as topGunClients } from "../support/e2e-clients.ts";
import { apiCall, syncCall, userToken } from "../support/http-api.ts";
import { startServer } from "../support/server-harness.ts";
import { SignJWT } from "jose";
import { lwwPut, orAdd, TestClient } from "../support/ws-client.ts";

const TODO_SCHEMA = {
  type: "object",
  required: ["title"],
  properties: { title: { type: "string", maxLength: 40 }, done: { type: "boolean" } },
  additionalProperties: false,
};
const TITLE_IS_NUMBER = 'value does not conform to the schema of map todos at /title: rule #/properties/title/type (type): Instance type "number" is invalid. Expected "string".';

const sockets = clientPool();
const clients = topGunClients();
const hlc = new HLC("schema-e2e");

async function withSchema(map = "todos", schema: unknown = TODO_SCHEMA): Promise<string> {
  const namespace = uniqueName("schemas");
  const answer = await adminCall(serverUrl(), `/api/admin/schemas/${map}`, { method: "PUT", namespace, body: schema });
  expect(answer.status).toBe(200);
  return namespace;
}

const v1 = async (namespace: string, path: string, method = "GET", body?: unknown, user = "writer") =>
  apiCall(serverUrl(), path, { method, namespace, token: await userToken(user), ...(body === undefined ? {} : { body }) });

/** Polls `read` until `check` passes or 5 s pass (partitions see a schema change within about a second). */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("the admin API of map schemas", () => {
  it("stores, lists, replaces and deletes a map's schema, each change at a new version", async () => {
    const namespace = await withSchema();
    expect(await adminCall(serverUrl(), "/api/admin/schemas/todos", { namespace })).toEqual({ status: 200, body: { map: "todos", version: 1, schema: TODO_SCHEMA } });
    const replaced = await adminCall(serverUrl(), "/api/admin/schemas/todos", { method: "PUT", namespace, body: { type: "object" } });
    expect(replaced).toEqual({ status: 200, body: { map: "todos", version: 2, schema: { type: "object" } } });
    expect(await adminCall(serverUrl(), "/api/admin/schemas", { namespace })).toEqual({ status: 200, body: { schemas: [{ map: "todos", version: 2, schema: { type: "object" } }] } });
    expect((await adminCall(serverUrl(), "/api/admin/schemas/todos", { method: "DELETE", namespace })).status).toBe(204);
    expect(await adminCall(serverUrl(), "/api/admin/schemas/todos", { namespace })).toEqual({ status: 404, body: { code: 404, message: "map todos has no schema" } });
    expect((await adminCall(serverUrl(), "/api/admin/schemas/todos", { method: "DELETE", namespace })).status).toBe(404);
  });

  it("refuses a schema that is not valid JSON Schema with 400 naming the problem, and stores nothing", async () => {
    const namespace = uniqueName("schemas");
    const put = (body: unknown) => adminCall(serverUrl(), "/api/admin/schemas/todos", { method: "PUT", namespace, body });
    expect(await put({ properties: { age: { type: "numbr" } } })).toEqual({
      status: 400,
      body: { code: 400, field: "schema", message: 'not a valid JSON Schema: /properties/age/type: "numbr" is not a JSON Schema type (array, boolean, integer, null, number, object, string)' },
    });
    expect((await put({ properties: { a: { $ref: "#/$defs/missing" } } })).body).toMatchObject({ message: 'not a valid JSON Schema: /properties/a/$ref: "#/$defs/missing" does not point inside the schema' });
    expect((await put({ pattern: "(" })).body).toMatchObject({ message: expect.stringContaining("/pattern: not a valid regular expression") });
    expect((await put([1, 2])).status).toBe(400);
    expect(await put("{not json")).toEqual({ status: 400, body: { code: 400, message: "the body is not JSON" } });
    expect((await put({ description: "x".repeat(70_000) })).status).toBe(413);
    expect((await adminCall(serverUrl(), `/api/admin/schemas/${"m".repeat(300)}`, { method: "PUT", namespace, body: {} })).status).toBe(400);
    expect(await adminCall(serverUrl(), "/api/admin/schemas", { namespace })).toEqual({ status: 200, body: { schemas: [] } });
  });

  it("lets no one but an admin set or read schemas through the admin plane", async () => {
    const namespace = uniqueName("schemas");
    const asUser = await userToken("mallory");
    expect((await adminCall(serverUrl(), "/api/admin/schemas/todos", { method: "PUT", namespace, body: {}, token: null })).status).toBe(401);
    expect((await adminCall(serverUrl(), "/api/admin/schemas/todos", { method: "PUT", namespace, body: {}, token: asUser })).status).toBe(403);
    expect((await adminCall(serverUrl(), "/api/admin/schemas", { namespace, token: asUser })).status).toBe(403);
    expect((await adminCall(serverUrl(), "/api/admin/schemas/todos", { method: "DELETE", namespace, token: asUser })).status).toBe(403);
    expect((await adminCall(serverUrl(), "/api/admin/schemas", { namespace })).body).toEqual({ schemas: [] });
  });
});

describe("writes under a map schema", () => {
  it("refuses a WebSocket write that breaks the schema with OP_REJECTED naming its path and rule, and applies the rest", async () => {
    const namespace = await withSchema();
    const socket = await sockets.authed({ namespace });
    const ack = await socket.write([lwwPut("todos", "bad", { title: 5 }, hlc.now(), { id: "bad" }), lwwPut("todos", "good", { title: "milk" }, hlc.now(), { id: "good" })]);
    expect(ack.payload.lastId).toBe("good");
    const rejected = socket.history.filter((f) => f.type === "OP_REJECTED").map((f) => f.message);
    expect(rejected).toEqual([{ type: "OP_REJECTED", payload: { opId: "bad", code: 422, reason: TITLE_IS_NUMBER } }]);
    expect((await v1(namespace, "/v1/maps/todos/records/good")).body).toMatchObject({ value: { title: "milk" } });
    expect((await v1(namespace, "/v1/maps/todos/records/bad")).status).toBe(404);
  });

  it("refuses an OR-Map add that breaks the schema", async () => {
    const namespace = await withSchema("tags", { type: "string", enum: ["red", "green"] });
    const socket = await sockets.authed({ namespace });
    await socket.write([orAdd("tags", "doc", { value: "blue", timestamp: hlc.now(), tag: "t-1" }, { id: "blue" })]);
    expect(socket.history.find((f) => f.type === "OP_REJECTED")?.message).toMatchObject({
      payload: { opId: "blue", code: 422, reason: expect.stringContaining("schema of map tags at /: rule #/enum (enum)") },
    });
    expect((await v1(namespace, "/v1/ormaps/tags/records/doc", "POST", { value: "green" })).status).toBe(201);
    expect((await v1(namespace, "/v1/ormaps/tags/records/doc", "POST", { value: 7 })).status).toBe(400);
    expect((await v1(namespace, "/v1/ormaps/tags/records/doc")).body).toMatchObject({ values: [{ value: "green" }] });
  });

  it("drops the records of an OR-Map merge (ORMAP_PUSH_DIFF) that break the schema, with ERROR 422, and merges the rest", async () => {
    const namespace = await withSchema("tags", { type: "string" });
    const socket = await sockets.authed({ namespace });
    socket.send({
      type: "ORMAP_PUSH_DIFF",
      payload: {
        mapName: "tags",
        entries: [{ key: "doc", records: [{ value: 42, timestamp: hlc.now(), tag: "t-bad" }, { value: "red", timestamp: hlc.now(), tag: "t-good" }], tombstones: [] }],
      },
    });
    expect(await socket.waitFor("ERROR")).toEqual({ type: "ERROR", payload: { code: 422, message: expect.stringContaining("key doc: value does not conform to the schema of map tags at /: rule #/type (type)") } });
    const read = await eventually(() => v1(namespace, "/v1/ormaps/tags/records/doc"), (a) => (a.body as { values?: unknown[] }).values?.length === 1);
    expect(read.body).toEqual({ key: "doc", values: [{ value: "red", tag: "t-good" }] });
  });

  it("refuses an HTTP /v1 put and a /v1/batch op that break the schema, naming the path and rule", async () => {
    const namespace = await withSchema();
    expect(await v1(namespace, "/v1/maps/todos/records/a", "PUT", { value: { title: 5 } })).toEqual({ status: 400, body: { error: { code: "bad_request", message: TITLE_IS_NUMBER } } });
    const batch = await v1(namespace, "/v1/batch", "POST", { ops: [{ map: "todos", key: "b", value: { title: "ok" } }, { map: "todos", key: "c", value: { title: "ok", extra: true } }] });
    expect(batch.status).toBe(200);
    expect(batch.body).toEqual({
      results: [{ ok: true }, { ok: false, error: { code: "bad_request", message: expect.stringContaining('rule #/additionalProperties (additionalProperties): Property "extra" does not match') } }],
    });
    expect((await v1(namespace, "/v1/maps/todos/records/a")).status).toBe(404);
    expect((await v1(namespace, "/v1/maps/todos/records/c")).status).toBe(404);
    // Removals carry no value: a delete is never refused by a schema.
    expect((await v1(namespace, "/v1/maps/todos/records/b", "DELETE")).status).toBe(204);
  });

  it("refuses a POST /sync operation that breaks the schema, reporting it in errors with its op id", async () => {
    const namespace = await withSchema();
    const operations = [lwwPut("todos", "a", { title: 5 }, hlc.now(), { id: "bad" }), lwwPut("todos", "b", { title: "ok" }, hlc.now(), { id: "good" })];
    const answer = await syncCall(serverUrl(), { clientId: uniqueName("backend"), clientHlc: hlc.now(), operations }, { token: await userToken("backend"), namespace });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ ack: { lastId: "good" }, errors: [{ code: 422, message: TITLE_IS_NUMBER, context: "bad" }] });
    expect((await v1(namespace, "/v1/maps/todos/records/a")).status).toBe(404);
    expect((await v1(namespace, "/v1/maps/todos/records/b")).status).toBe(200);
  });

  it("refuses an entry processor whose new value breaks the schema, and keeps the record as it was", async () => {
    const namespace = await withSchema();
    expect((await v1(namespace, "/v1/maps/todos/records/a", "PUT", { value: { title: "milk" } })).status).toBe(200);
    const merged = await v1(namespace, "/v1/maps/todos/records/a/process", "POST", { processor: "merge", args: { done: "yes" } });
    expect(merged).toEqual({ status: 400, body: { error: { code: "bad_request", message: expect.stringContaining("schema of map todos at /done: rule #/properties/done/type (type)") } } });
    expect((await v1(namespace, "/v1/maps/todos/records/a/process", "POST", { processor: "merge", args: { done: true } })).status).toBe(200);
    expect((await v1(namespace, "/v1/maps/todos/records/a")).body).toMatchObject({ value: { title: "milk", done: true } });
  });

  it("lets a once-refused value through within seconds of the schema being deleted", async () => {
    const namespace = await withSchema();
    expect((await v1(namespace, "/v1/maps/todos/records/a", "PUT", { value: 5 })).status).toBe(400);
    await adminCall(serverUrl(), "/api/admin/schemas/todos", { method: "DELETE", namespace });
    const answer = await eventually(() => v1(namespace, "/v1/maps/todos/records/a", "PUT", { value: 5 }), (a) => a.status === 200);
    expect(answer.status).toBe(200);
  });
});

describe("the client SDK under a map schema", () => {
  it("refuses a non-conforming set() locally, before it is applied or sent, with the server's words", async () => {
    const namespace = await withSchema();
    const client = await clients.connected({ namespace, user: "alice" });
    expect(await client.getSchema("todos")).toEqual({ mapName: "todos", version: 1, schema: TODO_SCHEMA });
    const todos = client.getMap<unknown>("todos");
    await todos.ready;
    let refused: unknown;
    try {
      todos.set("bad", { title: 5 });
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(SchemaViolationError);
    expect((refused as SchemaViolationError).reason).toBe(TITLE_IS_NUMBER);
    expect(todos.get("bad")).toBeUndefined();
    expect(client.getPendingOpCount()).toBe(0);
    todos.set("good", { title: "milk" });
    await vi.waitFor(() => expect(client.getPendingOpCount()).toBe(0), CLIENT_WAIT);
    expect((await v1(namespace, "/v1/maps/todos/records/good")).body).toMatchObject({ value: { title: "milk" } });
  });

  it("has the server refuse (OP_REJECTED, rolled back) a write of a client that did not know the schema yet", async () => {
    const namespace = uniqueName("schemas");
    const client = await clients.connected({ namespace, user: "bob" });
    const todos = client.getMap<unknown>("todos");
    await todos.ready;
    expect(await client.getSchema("todos")).toBeUndefined();
    await adminCall(serverUrl(), "/api/admin/schemas/todos", { method: "PUT", namespace, body: TODO_SCHEMA });
    const rejected: { reason: string; code: number | undefined }[] = [];
    client.onOpRejected((r) => rejected.push({ reason: r.reason, code: r.code }));
    // The home may serve its cached copy (no schema) for up to a second: write until it refuses.
    let lastKey = "";
    await vi.waitFor(() => {
      if (rejected.length === 0) {
        lastKey = `k${Date.now()}`;
        todos.set(lastKey, { title: 5 });
      }
      expect(rejected[0]).toEqual({ reason: TITLE_IS_NUMBER, code: 422 });
    }, { timeout: 10_000, interval: 500 });
    await vi.waitFor(() => expect(client.getPendingOpCount()).toBe(0), CLIENT_WAIT);
    // The refused write is rolled back; the server never held it.
    expect(todos.get(lastKey)).toBeUndefined();
    expect((await v1(namespace, `/v1/maps/todos/records/${lastKey}`)).status).toBe(404);
  });
});

describe("reading a map's schema", () => {
  it("gives a map's schema to a caller that may read the map, over /v1 and the WebSocket", async () => {
    const namespace = await withSchema();
    expect(await v1(namespace, "/v1/maps/todos/schema")).toEqual({ status: 200, body: { map: "todos", version: 1, schema: TODO_SCHEMA } });
    expect(await v1(namespace, "/v1/maps/notes/schema")).toEqual({ status: 404, body: { error: { code: "not_found", message: "map notes has no schema" } } });
    const socket = await sockets.authed({ namespace });
    socket.send({ type: "SCHEMA_GET", payload: { requestId: "r1", mapName: "todos" } });
    expect(await socket.waitFor("SCHEMA_RESP")).toEqual({ type: "SCHEMA_RESP", payload: { requestId: "r1", mapName: "todos", version: 1, schema: TODO_SCHEMA } });
  });

  it("refuses a map's schema to a caller without read access to the map", async () => {
    const namespace = await withSchema();
    await putPolicies(serverUrl(), namespace, [{ mapPattern: "public", action: "all", effect: "allow" }]);
    expect(await v1(namespace, "/v1/maps/todos/schema", "GET", undefined, "mallory")).toEqual({ status: 403, body: { error: { code: "forbidden", message: "forbidden: read access denied for map: todos" } } });
    const socket = await sockets.authed({ namespace }, "mallory");
    socket.send({ type: "SCHEMA_GET", payload: { requestId: "r1", mapName: "todos" } });
    expect(await socket.waitFor("SCHEMA_RESP")).toMatchObject({ payload: { requestId: "r1", code: 403, error: "forbidden: read access denied for map: todos" } });
  });

  it("answers an invalid SCHEMA_GET with an error and keeps the socket open", async () => {
    const socket = await sockets.authed({ namespace: uniqueName("schemas") });
    socket.send({ type: "SCHEMA_GET", payload: { requestId: "r1", mapName: "" } });
    expect(await socket.waitFor("ERROR")).toMatchObject({ payload: { code: 422 } });
    socket.send({ type: "SCHEMA_GET", payload: { requestId: "r2", mapName: "todos" } });
    expect(await socket.waitFor("SCHEMA_RESP")).toMatchObject({ payload: { requestId: "r2", version: 0 } });
  });
});

/** An HS256 token of the shared test secret with a `tenant` claim (TOPGUN_NAMESPACE_CLAIM=tenant). */
const tenantToken = (sub: string, tenant: string, roles: string[] = []) =>
  new SignJWT({ roles, tenant }).setProtectedHeader({ alg: "HS256" }).setSubject(sub).setIssuedAt().setExpirationTime("1h").sign(new TextEncoder().encode(E2E_JWT_SECRET));

describe("schemas across a crash, and tenants", () => {
  it("still refuses non-conforming writes after the server is killed and restarted on the same state; a tenant's admin reaches only its own namespace's schemas", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "topgun-schemas-"));
    const first = await startServer({ jwtSecret: E2E_JWT_SECRET, stateDir });
    try {
      const namespace = uniqueName("schemas");
      expect((await adminCall(first.url, "/api/admin/schemas/todos", { method: "PUT", namespace, body: TODO_SCHEMA })).status).toBe(200);
      await first.kill();
      // Restarted with tenancy: a token's `tenant` claim names its namespace; "ops" (the default admin token) stays global.
      const second = await startServer({ jwtSecret: E2E_JWT_SECRET, stateDir, settings: { TOPGUN_NAMESPACE_CLAIM: "tenant", TOPGUN_ADMIN_SUBJECTS: "ops" } });
      try {
        const token = await tenantToken("writer", namespace);
        const socket = await TestClient.connect(second.wsUrl({ namespace }), { token });
        try {
          await socket.write([lwwPut("todos", "bad", { title: 5 }, hlc.now(), { id: "bad" })]);
          expect(socket.history.find((f) => f.type === "OP_REJECTED")?.message).toEqual({ type: "OP_REJECTED", payload: { opId: "bad", code: 422, reason: TITLE_IS_NUMBER } });
        } finally {
          socket.close();
        }
        expect((await adminCall(second.url, "/api/admin/schemas/todos", { namespace })).body).toMatchObject({ version: 1, schema: TODO_SCHEMA });
        const ownAdmin = await tenantToken("tenant-admin", namespace, ["admin"]);
        const otherAdmin = await tenantToken("globex-admin", "globex", ["admin"]);
        expect((await adminCall(second.url, "/api/admin/schemas/todos", { namespace, token: ownAdmin })).status).toBe(200);
        expect((await adminCall(second.url, "/api/admin/schemas/todos", { namespace, token: otherAdmin })).status).toBe(403);
        expect((await adminCall(second.url, "/api/admin/schemas/todos", { method: "PUT", namespace, token: otherAdmin, body: true })).status).toBe(403);
        expect((await adminCall(second.url, "/api/admin/schemas/todos", { method: "DELETE", namespace, token: otherAdmin })).status).toBe(403);
        expect((await adminCall(second.url, "/api/admin/schemas/todos", { namespace })).body).toMatchObject({ version: 1 });
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop().catch(() => undefined); // already killed
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 240_000);
});
