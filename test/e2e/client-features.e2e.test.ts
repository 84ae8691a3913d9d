// The client SDK's live features (queries, topics, locks, counters, search, entry processors, journal) between two
// real TopGunClients on the shared local server.
import { describe, expect, it, vi } from "vitest";
import type { JournalEvent } from "../../client/event-journal-handle.ts";
import type { ResultChange } from "../../client/result-diff.ts";
import type { SearchHit } from "../../client/search-handle.ts";
import type { TopicMessage } from "../../client/topic-handle.ts";
import type { TopGunClient } from "../../client/topgun-client.ts";
import { uniqueName } from "../support/e2e-context.ts";
import { CLIENT_WAIT, clientPool } from "../support/e2e-clients.ts";

const WAIT = CLIENT_WAIT;
const clients = clientPool();

/** Resolves once the server has handled everything `client` sent before (it answers a journal read in order). */
async function barrier(client: TopGunClient): Promise<void> {
  await client.getEventJournal().readMapEvents(uniqueName("barrier"), 0n, 1);
}

async function waitAcked(client: TopGunClient): Promise<void> {
  await client.flush();
  await vi.waitFor(() => expect(client.getPendingOpCount()).toBe(0), WAIT);
}

interface Task {
  title: string;
  done: boolean;
}

describe("client features against the server", () => {
  it("shows another client's writes in a live query as ENTER, UPDATE and LEAVE", async () => {
    const map = uniqueName("tasks");
    const reader = await clients.connected();
    const writer = await clients.connected();
    const query = reader.query<Task>(map, { where: { done: false } });
    const changes: ResultChange<Task>[] = [];
    query.onChanges((batch) => changes.push(...batch));
    await vi.waitFor(() => expect(query.settled).toBe(true), WAIT);
    const tasks = writer.getMap<Task>(map);

    tasks.set("t1", { title: "write", done: false });
    await vi.waitFor(() => expect(changes.map((c) => c.changeType)).toEqual(["ENTER"]), WAIT);
    tasks.set("t1", { title: "write more", done: false });
    await vi.waitFor(() => expect(changes.map((c) => c.changeType)).toEqual(["ENTER", "UPDATE"]), WAIT);
    tasks.set("t1", { title: "write more", done: true });

    await vi.waitFor(() => expect(changes.map((c) => c.changeType)).toEqual(["ENTER", "UPDATE", "LEAVE"]), WAIT);
    expect(changes.map((c) => c.value.title)).toEqual(["write", "write more", "write more"]);
    expect(query.results()).toEqual([]);
  });

  it("shows a local write in a live query at once and keeps it once the server acknowledged it", async () => {
    const map = uniqueName("tasks");
    const client = await clients.connected();
    const query = client.query<Task>(map, { where: { done: false } });
    await vi.waitFor(() => expect(query.settled).toBe(true), WAIT);

    client.getMap<Task>(map).set("mine", { title: "mine", done: false });
    const atOnce = query.results();
    await waitAcked(client);
    await barrier(client);

    expect(atOnce).toEqual([["mine", { title: "mine", done: false }]]);
    expect(query.results()).toEqual([["mine", { title: "mine", done: false }]]);
  });

  it("delivers a topic publish to the other client's subscriber", async () => {
    const name = uniqueName("chat");
    const publisher = await clients.connected();
    const subscriber = await clients.connected();
    const received: TopicMessage[] = [];
    subscriber.getTopic(name).subscribe((message) => received.push(message));
    await barrier(subscriber);

    publisher.getTopic(name).publish({ text: "hello" });

    await vi.waitFor(() => expect(received.map((m) => m.data)).toEqual([{ text: "hello" }]), WAIT);
  });

  it("grants a lock to one client at a time with increasing fencing tokens", async () => {
    const name = uniqueName("job");
    const a = await clients.connected();
    const b = await clients.connected();
    const first = await a.getLock(name).lock(30_000);
    let secondToken: number | undefined;
    const second = b.getLock(name).lock(30_000).then((token) => (secondToken = token));
    await barrier(b);
    const heldByA = secondToken;

    expect(await a.getLock(name).unlock(first)).toBe(true);
    await second;

    expect(heldByA).toBeUndefined();
    expect(secondToken).toBeGreaterThan(first);
  });

  it("converges a PN counter changed by both clients", async () => {
    const name = uniqueName("likes");
    const a = await clients.connected();
    const b = await clients.connected();
    const likesA = a.getPNCounter(name);
    const likesB = b.getPNCounter(name);

    likesA.increment(3);
    likesB.increment(2);
    likesB.decrement(1);

    await vi.waitFor(() => expect([likesA.get(), likesB.get()]).toEqual([4, 4]), WAIT);
  });

  it("finds the other client's writes with a search and a live search", async () => {
    const map = uniqueName("docs");
    const writer = await clients.connected();
    const reader = await clients.connected();
    const docs = writer.getMap<{ text: string }>(map);
    docs.set("d1", { text: "the quick brown fox" });
    await waitAcked(writer);

    const found = await reader.search(map, "fox");
    const live = reader.searchSubscribe(map, "fox");
    const seen: SearchHit[][] = [];
    live.subscribe((hits) => seen.push(hits));
    await vi.waitFor(() => expect(seen.length).toBeGreaterThanOrEqual(2), WAIT);
    docs.set("d2", { text: "a fox again" });

    expect(found.hits.map((hit) => hit.key)).toEqual(["d1"]);
    await vi.waitFor(() => expect(live.hits().map((hit) => hit.key).sort()).toEqual(["d1", "d2"]), WAIT);
  });

  it("applies entry processor increments from both clients atomically", async () => {
    const map = uniqueName("stock");
    const a = await clients.connected();
    const b = await clients.connected();
    const increment = { name: "increment", args: 1 };

    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => a.executeOnKey(map, "n", increment)),
      ...Array.from({ length: 5 }, () => b.executeOnKey(map, "n", increment)),
    ]);

    expect(results.every((r) => r.success)).toBe(true);
    expect(results.map((r) => r.newValue).sort((x, y) => Number(x) - Number(y))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const view = a.getMap<number>(map);
    await vi.waitFor(() => expect(view.get("n")).toBe(10), WAIT);
  });

  it("reads and streams the event journal of another client's writes", async () => {
    const map = uniqueName("journaled");
    const reader = await clients.connected();
    const writer = await clients.connected();
    const streamed: JournalEvent[] = [];
    reader.getEventJournal().subscribe((event) => streamed.push(event), { mapName: map });
    await barrier(reader);
    const notes = writer.getMap<string>(map);

    notes.set("k", "one");
    notes.set("k", "two");
    await waitAcked(writer);
    await vi.waitFor(() => expect(streamed.map((e) => e.type)).toEqual(["PUT", "UPDATE"]), WAIT);
    const read = await reader.getEventJournal().readMapEvents(map, 0n, 10);

    expect(read.map((e) => [e.type, e.key, e.value, e.previousValue])).toEqual([
      ["PUT", "k", "one", undefined],
      ["UPDATE", "k", "two", "one"],
    ]);
    expect(streamed[1]?.sequence).toBeGreaterThan(streamed[0]?.sequence ?? 0n);
  });
});
