import { describe, expect, it } from "vitest";
import type { ResultChange } from "./result-diff.ts";
import { FakeServer, handshake, until, type FakeSocket } from "./testing/fake-server.ts";
import { startedClients } from "./testing/started-clients.ts";
import type { TopGunClient } from "./topgun-client.ts";

interface Task {
  title: string;
  done: boolean;
  rank?: number;
}

const startClient = startedClients();

function queryIdOf(socket: FakeSocket): string {
  const sub = socket.sentOf("QUERY_SUB").at(-1);
  if (sub === undefined) throw new Error("the client sent no QUERY_SUB");
  return sub.payload.queryId;
}

/** Sends OP_ACK for everything the client has sent so far. */
async function acknowledgeAll(client: TopGunClient, socket: FakeSocket): Promise<void> {
  await client.flush();
  await until(() => socket.sentOf("OP_BATCH").length > 0, "an OP_BATCH");
  const lastId = socket.sentOf("OP_BATCH").at(-1)?.payload.ops.at(-1)?.id ?? "";
  socket.deliver({ type: "OP_ACK", payload: { lastId } });
}

const notDone = { where: { done: false } };

describe("optimistic live queries", () => {
  it("shows the matching local records at once, before the server answers", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const tasks = client.getMap<Task>("tasks");
    tasks.set("a", { title: "A", done: false });
    tasks.set("b", { title: "B", done: true });
    await handshake(server);

    const query = client.query<Task>("tasks", notDone);

    expect(query.settled).toBe(false);
    expect(query.results()).toEqual([["a", { title: "A", done: false }]]);
  });

  it("answers a query from the local map while offline", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const tasks = client.getMap<Task>("tasks");
    tasks.set("a", { title: "A", done: false });

    const seen: [string, Task][][] = [];
    client.query<Task>("tasks", notDone).subscribe((results) => seen.push(results));

    expect(client.getConnectionState()).not.toBe("CONNECTED");
    expect(seen).toEqual([[["a", { title: "A", done: false }]]]);
  });

  it("applies a local write that enters the results and one that leaves them at once", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const tasks = client.getMap<Task>("tasks");
    const query = client.query<Task>("tasks", notDone);
    const changes: ResultChange<Task>[] = [];
    query.onChanges((batch) => changes.push(...batch));

    tasks.set("a", { title: "A", done: false });
    tasks.set("a", { title: "A2", done: false });
    tasks.set("a", { title: "A2", done: true });

    expect(changes).toEqual([
      { key: "a", value: { title: "A", done: false }, changeType: "ENTER" },
      { key: "a", value: { title: "A2", done: false }, changeType: "UPDATE" },
      { key: "a", value: { title: "A2", done: false }, changeType: "LEAVE" },
    ]);
    expect(query.results()).toEqual([]);
  });

  it("settles to the server's snapshot and changes for keys without pending writes", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const query = client.query<Task>("tasks", notDone);
    const socket = await handshake(server);
    const queryId = queryIdOf(socket);

    socket.deliver({ type: "QUERY_RESP", payload: { queryId, results: [{ key: "s1", value: { title: "S1", done: false } }] } });
    socket.deliver({ type: "QUERY_UPDATE", payload: { queryId, key: "s2", value: { title: "S2", done: false }, changeType: "ENTER" } });
    socket.deliver({ type: "QUERY_UPDATE", payload: { queryId, key: "s1", value: { title: "S1", done: true }, changeType: "LEAVE" } });

    expect(query.settled).toBe(true);
    expect(query.results()).toEqual([["s2", { title: "S2", done: false }]]);
  });

  it("keeps a pending local write when an older server snapshot arrives", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const tasks = client.getMap<Task>("tasks");
    const query = client.query<Task>("tasks", notDone);
    tasks.set("mine", { title: "mine", done: false });
    tasks.remove("gone");
    const socket = await handshake(server);
    const queryId = queryIdOf(socket);

    socket.deliver({ type: "QUERY_RESP", payload: { queryId, results: [{ key: "gone", value: { title: "old", done: false } }] } });

    expect(query.results()).toEqual([["mine", { title: "mine", done: false }]]);
  });

  it("hands an acknowledged key back to the server once the server speaks about it", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const tasks = client.getMap<Task>("tasks");
    const query = client.query<Task>("tasks", notDone);
    const socket = await handshake(server);
    const queryId = queryIdOf(socket);
    socket.deliver({ type: "QUERY_RESP", payload: { queryId, results: [] } });
    tasks.set("mine", { title: "mine", done: false });
    await acknowledgeAll(client, socket);
    expect(query.results()).toEqual([["mine", { title: "mine", done: false }]]);

    socket.deliver({ type: "QUERY_UPDATE", payload: { queryId, key: "mine", value: { title: "theirs", done: false }, changeType: "UPDATE" } });

    expect(query.results()).toEqual([["mine", { title: "theirs", done: false }]]);
  });

  it("sorts and limits the merged view of server results and local writes", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const tasks = client.getMap<Task>("tasks");
    const query = client.query<Task>("tasks", { where: { done: false }, sort: { rank: "desc" }, limit: 2 });
    const socket = await handshake(server);
    const queryId = queryIdOf(socket);
    const task = (rank: number): Task => ({ title: `t${rank}`, done: false, rank });
    socket.deliver({ type: "QUERY_RESP", payload: { queryId, results: [{ key: "s3", value: task(3) }, { key: "s1", value: task(1) }] } });

    tasks.set("l2", task(2));
    tasks.set("l5", task(5));

    expect(query.results()).toEqual([["l5", task(5)], ["s3", task(3)]]);
  });

  it("tells subscribers when the server answers even if the results did not change", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const query = client.query<Task>("tasks", notDone);
    const calls: number[] = [];
    query.subscribe((results) => calls.push(results.length));
    const socket = await handshake(server);

    socket.deliver({ type: "QUERY_RESP", payload: { queryId: queryIdOf(socket), results: [] } });

    expect(calls).toEqual([0, 0]);
    expect(query.settled).toBe(true);
  });
});
