import { describe, expect, it } from "vitest";
import type { JournalEvent } from "./event-journal-handle.ts";
import { FakeServer, handshake, until } from "./testing/fake-server.ts";
import { startedClients } from "./testing/started-clients.ts";

const startClient = startedClients();

const timestamp = { millis: 1, counter: 0, nodeId: "srv" };

describe("entry processors", () => {
  it("resolves executeOnKey with its ENTRY_PROCESS_RESPONSE", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    const answer = client.executeOnKey("stock", "n", { name: "increment", args: 2 });
    const [request] = socket.sentOf("ENTRY_PROCESS");

    socket.deliver({ type: "ENTRY_PROCESS_RESPONSE", requestId: request?.requestId ?? "", success: true, result: 2, newValue: 2 });

    expect(request).toMatchObject({ mapName: "stock", key: "n", processor: { name: "increment", args: 2 } });
    expect(await answer).toEqual({ success: true, result: 2, newValue: 2 });
  });

  it("resolves executeOnKeys with each key's result", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    const answer = client.executeOnKeys("stock", ["a", "b"], { name: "delete" });
    const requestId = socket.sentOf("ENTRY_PROCESS_BATCH")[0]?.requestId ?? "";

    socket.deliver({ type: "ENTRY_PROCESS_BATCH_RESPONSE", requestId, results: { a: { success: true, result: true }, b: { success: false, error: "no" } } });

    expect(await answer).toEqual(new Map([["a", { success: true, result: true }], ["b", { success: false, error: "no" }]]));
  });

  it("sends a request made offline after AUTH_ACK", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    void client.executeOnKey("stock", "n", { name: "increment" });

    const socket = await handshake(server);

    expect(socket.sentOf("ENTRY_PROCESS")).toHaveLength(1);
  });

  it("rejects a request whose connection closed before the answer instead of running it twice", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const first = await handshake(server);
    const answer = client.executeOnKey("stock", "n", { name: "increment" });
    first.drop();
    await until(() => server.sockets.length === 2, "a reconnect");

    const second = await handshake(server);

    await expect(answer).rejects.toThrow(/connection lost/);
    expect(second.sentOf("ENTRY_PROCESS")).toEqual([]);
  });
});

describe("event journal", () => {
  const event = (sequence: string, mapName: string) => ({ sequence, type: "PUT" as const, mapName, key: "k", value: 1, timestamp, nodeId: "w" });

  it("resolves a read with its events and sequences as bigints", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    const read = client.getEventJournal().readMapEvents("notes", 5n, 10);
    const [request] = socket.sentOf("JOURNAL_READ");

    socket.deliver({ type: "JOURNAL_READ_RESPONSE", requestId: request?.requestId ?? "", events: [event("1795000000000000042", "notes")], hasMore: false });

    expect(request).toMatchObject({ fromSequence: "5", limit: 10, mapName: "notes" });
    expect((await read).map((e) => e.sequence)).toEqual([1795000000000000042n]);
  });

  it("delivers JOURNAL_EVENTs of the subscribed map only and subscribes again after a reconnect", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const first = await handshake(server);
    const seen: JournalEvent[] = [];
    client.getEventJournal().subscribe((e) => seen.push(e), { mapName: "notes" });
    first.deliver({ type: "JOURNAL_EVENT", event: event("1", "notes") });
    first.deliver({ type: "JOURNAL_EVENT", event: event("2", "other") });
    first.drop();
    await until(() => server.sockets.length === 2, "a reconnect");

    const second = await handshake(server);

    expect(seen.map((e) => e.sequence)).toEqual([1n]);
    expect(second.sentOf("JOURNAL_SUBSCRIBE").map((m) => m.mapName)).toEqual(["notes"]);
  });

  it("sends JOURNAL_UNSUBSCRIBE when unsubscribed", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    const unsubscribe = client.getEventJournal().subscribe(() => {});
    const requestId = socket.sentOf("JOURNAL_SUBSCRIBE")[0]?.requestId;

    unsubscribe();

    expect(socket.sentOf("JOURNAL_UNSUBSCRIBE").map((m) => m.subscriptionId)).toEqual([requestId]);
  });
});
