import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { BUILTIN_PROCESSORS } from "../../core/entry-processors.ts";
import { parseShardConfig, partitionOf } from "../../core/placement.ts";
import { SHARDED_MAP, SHARDED_MAP_SHARDS } from "../support/e2e-config.ts";
import { clientPool, uniqueName } from "../support/e2e-context.ts";
import { lwwPut, type MessageOf, type TestClient } from "../support/ws-client.ts";

const clients = clientPool();
const hlc = new HLC("processor-test");

async function processKey(
  client: TestClient,
  map: string,
  key: string,
  name: string,
  args?: unknown,
): Promise<MessageOf<"ENTRY_PROCESS_RESPONSE">> {
  const requestId = uniqueName("ep");
  client.send({ type: "ENTRY_PROCESS", requestId, mapName: map, key, processor: { name, code: "ignored", ...(args === undefined ? {} : { args }) } });
  return client.waitFor("ENTRY_PROCESS_RESPONSE", { description: `ENTRY_PROCESS_RESPONSE ${requestId}`, where: (m) => m.requestId === requestId, timeoutMs: 20_000 });
}

async function valueOf(client: TestClient, map: string, key: string): Promise<unknown> {
  const queryId = uniqueName("q");
  client.send({ type: "QUERY_SUB", payload: { queryId, mapName: map, query: {} } });
  const resp = await client.waitFor("QUERY_RESP", { where: (m) => m.payload.queryId === queryId });
  client.send({ type: "QUERY_UNSUB", payload: { queryId } });
  return resp.payload.results.find((r) => r.key === key)?.value;
}

describe("entry processors", () => {
  it("10 clients × 100 concurrent increments on one key make 1000", async () => {
    const map = uniqueName("counter-map");
    const key = "hits";
    const all = await Promise.all(Array.from({ length: 10 }, () => clients.authed({ clientId: uniqueName("client") })));
    const responses = await Promise.all(all.flatMap((client) => Array.from({ length: 100 }, () => processKey(client, map, key, "increment"))));
    expect(responses.every((r) => r.success)).toBe(true);
    const seen = responses.map((r) => r.newValue as number).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(await valueOf(all[0]!, map, key)).toBe(1000);
  }, 120_000);

  it("runs each built-in", async () => {
    const map = uniqueName("builtins");
    const client = await clients.authed({ map });
    expect(await processKey(client, map, "n", "increment", 5)).toMatchObject({ success: true, result: 5, newValue: 5 });
    expect(await processKey(client, map, "n", "increment", -2)).toMatchObject({ success: true, newValue: 3 });
    expect(await processKey(client, map, "list", "append", "a")).toMatchObject({ success: true, newValue: "a" });
    expect(await processKey(client, map, "list", "append", "b")).toMatchObject({ success: true, newValue: "ab" });
    expect(await processKey(client, map, "arr", "append", [1, 2])).toMatchObject({ newValue: [1, 2] });
    expect(await processKey(client, map, "arr", "append", 3)).toMatchObject({ newValue: [1, 2, 3] });
    expect(await processKey(client, map, "obj", "merge", { a: 1, b: 1 })).toMatchObject({ newValue: { a: 1, b: 1 } });
    expect(await processKey(client, map, "obj", "merge", { b: 2 })).toMatchObject({ newValue: { a: 1, b: 2 } });
    expect(await processKey(client, map, "once", "setIfAbsent", "first")).toMatchObject({ success: true, result: true, newValue: "first" });
    expect(await processKey(client, map, "once", "setIfAbsent", "second")).toMatchObject({ success: true, result: false, newValue: "first" });
    expect(await processKey(client, map, "obj", "compareAndSet", { expected: { a: 1, b: 1 }, value: 0 })).toMatchObject({ result: false });
    expect(await processKey(client, map, "obj", "compareAndSet", { expected: { b: 2, a: 1 }, value: "swapped" })).toMatchObject({
      result: true,
      newValue: "swapped",
    });
    expect(await processKey(client, map, "once", "delete")).toMatchObject({ success: true, result: true });
    expect(await processKey(client, map, "once", "delete")).toMatchObject({ success: true, result: false });
    expect(await processKey(client, map, "obj", "increment")).toMatchObject({ success: false });
    expect(await valueOf(client, map, "obj")).toBe("swapped");
    expect(await valueOf(client, map, "once")).toBeUndefined();
  });

  it("answers an unknown processor with an error naming the built-ins", async () => {
    const client = await clients.authed();
    const response = await processKey(client, uniqueName("m"), "k", "myCustomCode");
    expect(response.success).toBe(false);
    for (const name of BUILTIN_PROCESSORS) expect(response.error).toContain(name);
  });

  it("answers ENTRY_PROCESS_BATCH per key, a failing key included", async () => {
    const map = uniqueName("batch");
    const client = await clients.authed();
    await client.write([lwwPut(map, "a", 10, hlc.now()), lwwPut(map, "c", "text", hlc.now())]);
    const requestId = uniqueName("epb");
    client.send({ type: "ENTRY_PROCESS_BATCH", requestId, mapName: map, keys: ["a", "b", "c"], processor: { name: "increment", args: 2 } });
    const response = await client.waitFor("ENTRY_PROCESS_BATCH_RESPONSE", { where: (m) => m.requestId === requestId });
    expect(response.results.a).toMatchObject({ success: true, newValue: 12 });
    expect(response.results.b).toMatchObject({ success: true, newValue: 2 });
    expect(response.results.c).toMatchObject({ success: false });
  });

  it("delivers a processor's write to another client as SERVER_EVENT with a newer server timestamp", async () => {
    const map = uniqueName("live-ep");
    const writer = await clients.authed({ clientId: uniqueName("w") });
    const reader = await clients.authed({ clientId: uniqueName("r") });
    const base = hlc.now();
    await writer.write([lwwPut(map, "k", 1, base)]);
    reader.send({ type: "SYNC_INIT", mapName: map });
    await reader.waitFor("SYNC_RESP_ROOT", { where: (m) => m.payload.mapName === map });
    await processKey(writer, map, "k", "increment", 10);
    const event = await reader.waitFor("SERVER_EVENT", { where: (m) => m.payload.mapName === map && m.payload.key === "k" });
    expect(event.payload.eventType).toBe("PUT");
    expect(event.payload.record?.value).toBe(11);
    const ts = event.payload.record!.timestamp;
    expect(ts.millis > base.millis || (ts.millis === base.millis && ts.counter > base.counter)).toBe(true);
  });

  it("runs ENTRY_PROCESS_BATCH at every owner of a sharded map, with QUERY_UPDATEs and journal events like any write", async () => {
    const run = uniqueName("run");
    const client = await clients.authed();
    const watcher = await clients.authed({ clientId: uniqueName("watcher") });
    const keys = Array.from({ length: 8 }, (_, i) => `${run}-${i}`);
    const config = parseShardConfig(`${SHARDED_MAP}:${SHARDED_MAP_SHARDS}`);
    expect(new Set(keys.map((key) => partitionOf(config, SHARDED_MAP, key))).size).toBeGreaterThan(1);
    const queryId = uniqueName("q");
    watcher.send({ type: "QUERY_SUB", payload: { queryId, mapName: SHARDED_MAP, query: { where: { run } } } });
    await watcher.waitFor("QUERY_RESP", { where: (m) => m.payload.queryId === queryId });
    watcher.send({ type: "JOURNAL_SUBSCRIBE", requestId: uniqueName("js"), mapName: SHARDED_MAP, types: ["PUT"] });
    await watcher.barrier();

    const requestId = uniqueName("epb");
    client.send({ type: "ENTRY_PROCESS_BATCH", requestId, mapName: SHARDED_MAP, keys, processor: { name: "merge", code: "ignored", args: { run } } });
    const response = await client.waitFor("ENTRY_PROCESS_BATCH_RESPONSE", { where: (m) => m.requestId === requestId });

    for (const key of keys) expect(response.results[key]).toMatchObject({ success: true, newValue: { run } });
    for (const key of keys) {
      await watcher.waitFor("QUERY_UPDATE", { where: (m) => m.payload.queryId === queryId && m.payload.key === key && m.payload.changeType === "ENTER" });
      await watcher.waitFor("JOURNAL_EVENT", { where: (m) => m.event.key === key && m.event.type === "PUT" });
    }
  });
});
