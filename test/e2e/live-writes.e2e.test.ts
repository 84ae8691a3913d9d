import { describe, expect, it } from "vitest";
import { HLC, type Timestamp } from "../../core/hlc.ts";
import { LWWMap } from "../../core/lww-map.ts";
import { homePartitionOfClient, partitionOf, parseShardConfig } from "../../core/placement.ts";
import { SHARDED_MAP, SHARDED_MAP_SHARDS } from "../support/e2e-config.ts";
import { clientPool, uniqueName } from "../support/e2e-context.ts";
import { clientSync } from "../support/merkle-sync-client.ts";
import { nilTtlPaths } from "../support/wire-checks.ts";
import { lwwPut, lwwRemove, nextOpId, type TestClient } from "../support/ws-client.ts";

const clients = clientPool();

/** Sends SYNC_INIT for `map` and waits for its root, which registers the connection for the map's events. */
async function syncInit(client: TestClient, map: string): Promise<void> {
  client.send({ type: "SYNC_INIT", mapName: map });
  await client.waitFor("SYNC_RESP_ROOT", { where: (m) => m.payload.mapName === map });
}

function waitForEvent(client: TestClient, map: string, key: string, eventType = "PUT") {
  return client.waitFor("SERVER_EVENT", {
    description: `SERVER_EVENT ${eventType} ${map}/${key}`,
    where: (m) => m.payload.mapName === map && m.payload.key === key && m.payload.eventType === eventType,
  });
}

describe("live writes", () => {
  it("delivers a write to another client that synced the map, keeping the writer's HLC timestamp", async () => {
    const map = uniqueName("live");
    const writer = await clients.authed({ map });
    const reader = await clients.authed({ map });
    await syncInit(reader, map);

    const timestamp = new HLC("writera").now();
    await writer.write([lwwPut(map, "greeting", { text: "hello" }, timestamp)]);

    const event = await waitForEvent(reader, map, "greeting");
    expect(event.payload.record).toEqual({ value: { text: "hello" }, timestamp });
    expect(nilTtlPaths(reader.rawOf(event))).toEqual([]);
  });

  it("sends no SERVER_EVENT to a connection that has not synced the map", async () => {
    const map = uniqueName("nointerest");
    const writer = await clients.authed({ map });
    const synced = await clients.authed({ map });
    const bystander = await clients.authed({ map });
    await syncInit(synced, map);

    await writer.write([lwwPut(map, "k", 1, new HLC("writera").now())]);
    await waitForEvent(synced, map, "k");
    await bystander.barrier();

    expect(bystander.collect("SERVER_EVENT")).toEqual([]);
  });

  it("never echoes a SERVER_EVENT to the writer, even when the writer synced the map", async () => {
    const map = uniqueName("noecho");
    const writer = await clients.authed({ map });
    const reader = await clients.authed({ map });
    await syncInit(writer, map);
    await syncInit(reader, map);

    await writer.write([lwwPut(map, "k", 1, new HLC("writera").now())]);
    await waitForEvent(reader, map, "k");
    await writer.barrier();

    expect(writer.collect("SERVER_EVENT")).toEqual([]);
  });

  it("acks an OP_BATCH with OP_ACK whose lastId is the id of the last op", async () => {
    const map = uniqueName("ack");
    const client = await clients.authed({ map });
    const hlc = new HLC("writera");
    const ops = [lwwPut(map, "a", 1, hlc.now()), lwwPut(map, "b", 2, hlc.now()), lwwPut(map, "c", 3, hlc.now())];

    client.sendBatch(ops);
    const ack = await client.waitFor("OP_ACK");

    expect(ack.payload.lastId).toBe(ops[2]?.id);
  });

  it("acks a CLIENT_OP with OP_ACK whose lastId is the op id", async () => {
    const map = uniqueName("ack1");
    const client = await clients.authed({ map });
    const op = lwwPut(map, "a", 1, new HLC("writera").now());

    client.sendOp(op);
    const ack = await client.waitFor("OP_ACK");

    expect(ack.payload.lastId).toBe(op.id);
  });

  it("reports results[] with success and achievedLevel for writeConcern APPLIED", async () => {
    const map = uniqueName("wc");
    const client = await clients.authed({ map });
    const hlc = new HLC("writera");
    const ops = [lwwPut(map, "a", 1, hlc.now()), lwwPut(map, "b", 2, hlc.now())];

    const ack = await client.write(ops, { writeConcern: "APPLIED" });

    expect(ack.payload.results).toEqual(ops.map((op) => ({ opId: op.id, success: true, achievedLevel: "APPLIED" })));
    expect(ack.payload.achievedLevel).toBe("APPLIED");
  });

  it("rejects an op timestamped 5 minutes ahead with OP_REJECTED and still acks the rest of the batch", async () => {
    const map = uniqueName("drift");
    const client = await clients.authed({ map });
    const hlc = new HLC("writera");
    const future: Timestamp = { millis: Date.now() + 5 * 60_000, counter: 0, nodeId: "writera" };
    const ops = [lwwPut(map, "before", 1, hlc.now()), lwwPut(map, "future", 2, future), lwwPut(map, "after", 3, hlc.now())];

    const ack = await client.write(ops);
    const rejected = await client.waitFor("OP_REJECTED");
    const stored = await clientSync(client, map, new LWWMap(new HLC("reader")));

    expect(rejected.payload.opId).toBe(ops[1]?.id);
    expect(ack.payload.lastId).toBe(ops[2]?.id);
    expect(stored.records.map((r) => r.key).sort()).toEqual(["after", "before"]);
  });

  it("marks a rejected op success:false in OP_ACK results[]", async () => {
    const map = uniqueName("drift-wc");
    const client = await clients.authed({ map });
    const future: Timestamp = { millis: Date.now() + 5 * 60_000, counter: 0, nodeId: "writera" };
    const ops = [lwwPut(map, "future", 2, future), lwwPut(map, "now", 3, new HLC("writera").now())];

    const ack = await client.write(ops, { writeConcern: "APPLIED" });

    expect(ack.payload.results?.map((r) => [r.opId, r.success])).toEqual([
      [ops[0]?.id, false],
      [ops[1]?.id, true],
    ]);
  });

  it("delivers a REMOVE as SERVER_EVENT REMOVE carrying the tombstone record", async () => {
    const map = uniqueName("remove");
    const writer = await clients.authed({ map });
    const reader = await clients.authed({ map });
    await syncInit(reader, map);
    const hlc = new HLC("writera");
    await writer.write([lwwPut(map, "doomed", "v", hlc.now())]);
    const removedAt = hlc.now();

    await writer.write([lwwRemove(map, "doomed", removedAt)]);

    const event = await waitForEvent(reader, map, "doomed", "REMOVE");
    expect(event.payload.record).toEqual({ value: null, timestamp: removedAt });
  });

  it("delivers writes between clients whose sockets live on different home partitions", async () => {
    const map = uniqueName("cross");
    const owner = partitionOf(parseShardConfig(""), map, "k");
    const [idA, idB] = twoClientIdsOnDistinctPartitions([owner]);
    const a = await clients.authed({ clientId: idA });
    const b = await clients.authed({ clientId: idB });
    await syncInit(a, map);
    await syncInit(b, map);
    const hlc = new HLC("writera");

    await a.write([lwwPut(map, "from-a", "A", hlc.now())]);
    await b.write([lwwPut(map, "from-b", "B", hlc.now())]);

    expect((await waitForEvent(b, map, "from-a")).payload.record?.value).toBe("A");
    expect((await waitForEvent(a, map, "from-b")).payload.record?.value).toBe("B");
  });

  it("delivers writes to a sharded map to another client that synced it", async () => {
    const prefix = uniqueName("live");
    const writer = await clients.authed({ map: SHARDED_MAP });
    const reader = await clients.authed({ clientId: uniqueName("reader") });
    await syncInit(reader, SHARDED_MAP);
    const hlc = new HLC("writera");
    const keys = Array.from({ length: 32 }, (_, i) => `${prefix}-${i}`);
    const shards = new Set(keys.map((key) => partitionOf(parseShardConfig(`${SHARDED_MAP}:${SHARDED_MAP_SHARDS}`), SHARDED_MAP, key)));
    expect(shards.size).toBeGreaterThan(1); // the keys really spread over several owners

    await writer.write(keys.map((key, i) => lwwPut(SHARDED_MAP, key, i, hlc.now(), { id: nextOpId("shard") })));

    for (const [i, key] of keys.entries()) {
      expect((await waitForEvent(reader, SHARDED_MAP, key)).payload.record?.value).toBe(i);
    }
  });
});

/** Two client ids whose home partitions differ from each other and from the partitions in `avoid`. */
function twoClientIdsOnDistinctPartitions(avoid: number[]): [string, string] {
  const pick = (taken: ReadonlySet<number>): string => {
    for (;;) {
      const id = uniqueName("client");
      if (!taken.has(homePartitionOfClient(id))) return id;
    }
  };
  const first = pick(new Set(avoid));
  return [first, pick(new Set([...avoid, homePartitionOfClient(first)]))];
}
