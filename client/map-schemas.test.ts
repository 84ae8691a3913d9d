import { describe, expect, it } from "vitest";
import { SchemaViolationError } from "./map-schemas.ts";
import { MemoryAdapter } from "./storage/memory-adapter.ts";
import { FakeServer, handshake, until, type FakeSocket } from "./testing/fake-server.ts";
import { startedClients } from "./testing/started-clients.ts";

const startClient = startedClients();
const TODO_SCHEMA = { type: "object", required: ["title"], properties: { title: { type: "string" } } };

/** Answers the client's SCHEMA_GET for `map` with `schema` (none when undefined). */
async function answerSchema(socket: FakeSocket, map: string, schema: unknown, version = 1): Promise<void> {
  await until(() => socket.sentOf("SCHEMA_GET").some((m) => m.payload.mapName === map), `a SCHEMA_GET for ${map}`);
  const request = socket.sentOf("SCHEMA_GET").findLast((m) => m.payload.mapName === map);
  const payload = schema === undefined ? { requestId: request?.payload.requestId ?? "", mapName: map, version: 0 } : { requestId: request?.payload.requestId ?? "", mapName: map, version, schema };
  socket.deliver({ type: "SCHEMA_RESP", payload });
}

describe("map schemas in the client", () => {
  it("refuses a non-conforming set() before applying it, naming the path and rule, and sends nothing", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const todos = client.getMap<unknown>("todos");
    await todos.ready;
    const socket = await handshake(server);
    const fetched = client.getSchema("todos");
    await answerSchema(socket, "todos", TODO_SCHEMA);
    expect(await fetched).toEqual({ mapName: "todos", version: 1, schema: TODO_SCHEMA });

    let thrown: unknown;
    try {
      todos.set("a", { title: 5 });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SchemaViolationError);
    expect((thrown as SchemaViolationError).reason).toBe('value does not conform to the schema of map todos at /title: rule #/properties/title/type (type): Instance type "number" is invalid. Expected "string".');
    expect(todos.get("a")).toBeUndefined();
    expect(client.getPendingOpCount()).toBe(0);

    todos.set("b", { title: "milk" });
    expect(todos.get("b")).toEqual({ title: "milk" });
  });

  it("refuses a non-conforming OR-Map add", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const tags = client.getORMap<unknown>("tags");
    await tags.ready;
    const socket = await handshake(server);
    const fetched = client.getSchema("tags");
    await answerSchema(socket, "tags", { type: "string" });
    await fetched;
    expect(() => tags.add("doc", 3)).toThrow(SchemaViolationError);
    expect(tags.get("doc")).toEqual([]);
    tags.add("doc", "red");
    expect(tags.get("doc")).toEqual(["red"]);
  });

  it("keeps enforcing a stored schema after a reload while offline", async () => {
    const storage = new MemoryAdapter();
    const online = new FakeServer();
    const first = await startClient(online, storage);
    await first.getMap("todos").ready;
    const socket = await handshake(online);
    const fetched = first.getSchema("todos");
    await answerSchema(socket, "todos", TODO_SCHEMA, 4);
    await fetched;
    await first.close();

    const offline = new FakeServer(); // never handshakes: the reloaded client stays offline
    const second = await startClient(offline, storage);
    const todos = second.getMap<unknown>("todos");
    await todos.ready;
    expect(() => todos.set("a", {})).toThrow('Instance does not have required property "title"');
    todos.set("b", { title: "offline" });
    expect(todos.get("b")).toEqual({ title: "offline" });
  });

  it("stops enforcing a schema the server no longer has", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const todos = client.getMap<unknown>("todos");
    await todos.ready;
    const socket = await handshake(server);
    let fetched = client.getSchema("todos");
    await answerSchema(socket, "todos", TODO_SCHEMA);
    await fetched;
    expect(() => todos.set("a", 1)).toThrow(SchemaViolationError);
    fetched = client.getSchema("todos");
    await answerSchema(socket, "todos", undefined);
    expect(await fetched).toBeUndefined();
    todos.set("a", 1);
    expect(todos.get("a")).toBe(1);
  });

  it("rejects getSchema with the server's refusal (no read access) and keeps writes unchecked", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    const fetched = client.getSchema("secret");
    await until(() => socket.sentOf("SCHEMA_GET").length > 0, "a SCHEMA_GET");
    const requestId = socket.sentOf("SCHEMA_GET").findLast((m) => m.payload.mapName === "secret")?.payload.requestId ?? "";
    socket.deliver({ type: "SCHEMA_RESP", payload: { requestId, mapName: "secret", version: 0, error: "forbidden: read access denied for map: secret", code: 403 } });
    await expect(fetched).rejects.toThrow("forbidden: read access denied for map: secret");
    client.getMap<unknown>("secret").set("a", 1);
  });
});
