import { describe, expect, it } from "vitest";
import { compareTimestamps, HLC, type Timestamp } from "../../core/hlc.ts";
import { LWWMap, type LWWRecord } from "../../core/lww-map.ts";
import { lwwEntryHash, MerkleTree } from "../../core/merkle-tree.ts";
import { clientPool, uniqueName } from "../support/e2e-context.ts";
import { clientSync } from "../support/merkle-sync-client.ts";
import { lwwPut, type TestClient } from "../support/ws-client.ts";
import type { ClientOp } from "../../core/protocol/shared.ts";

const clients = clientPool();
const KEY_COUNT = 200;
const CHUNK = 50;

/** Sends `ops` in chunks without waiting in between; resolves when every chunk is acked. */
function writeInChunks(client: TestClient, ops: ClientOp[]): Promise<unknown> {
  const acks: Promise<unknown>[] = [];
  for (let start = 0; start < ops.length; start += CHUNK) acks.push(client.write(ops.slice(start, start + CHUNK)));
  return Promise.all(acks);
}

describe("LWW convergence", () => {
  it("converges two clients writing the same keys concurrently on the record with the greater (millis, counter, nodeId)", async () => {
    const map = uniqueName("converge");
    const a = await clients.authed({ map });
    const b = await clients.authed({ map });
    const base = Date.now() - 10_000;
    // Timestamps chosen so that A wins some keys on millis, B some on counter, and ties go to the greater nodeId.
    const tsA = (i: number): Timestamp => ({ millis: base + (i % 3), counter: i % 2, nodeId: "nodea" });
    const tsB = (i: number): Timestamp => ({ millis: base + ((i + 1) % 3), counter: (i + 1) % 2, nodeId: "nodeb" });
    const keys = Array.from({ length: KEY_COUNT }, (_, i) => `key-${i}`);
    const opsA = keys.map((key, i) => lwwPut(map, key, `a${i}`, tsA(i)));
    const opsB = keys.map((key, i) => lwwPut(map, key, `b${i}`, tsB(i)));

    await Promise.all([writeInChunks(a, opsA), writeInChunks(b, opsB)]);
    const synced = await clientSync(await clients.authed({ map }), map, new LWWMap(new HLC("fresh")));

    const winners = new Map<string, LWWRecord>();
    keys.forEach((key, i) => {
      const recordA = { value: `a${i}`, timestamp: tsA(i) };
      const recordB = { value: `b${i}`, timestamp: tsB(i) };
      winners.set(key, compareTimestamps(recordA.timestamp, recordB.timestamp) > 0 ? recordA : recordB);
    });
    const received = new Map(synced.records.map((r) => [r.key, r.record]));
    expect(received).toEqual(winners);
    const expectedTree = new MerkleTree();
    for (const [key, record] of winners) expectedTree.update(key, lwwEntryHash(key, record.timestamp));
    expect(synced.serverRoot).toBe(expectedTree.getRootHash());
  });

  it("keeps the stored record and still acks when a write with an older HLC arrives later", async () => {
    const map = uniqueName("older");
    const client = await clients.authed({ map });
    const newer: Timestamp = { millis: Date.now() - 1_000, counter: 0, nodeId: "nodea" };
    const older: Timestamp = { millis: newer.millis - 1, counter: 5, nodeId: "nodez" };
    await client.write([lwwPut(map, "k", "newer", newer)]);

    const ack = await client.write([lwwPut(map, "k", "older", older)], { writeConcern: "APPLIED" });
    const synced = await clientSync(client, map, new LWWMap(new HLC("reader")));

    expect(ack.payload.results?.[0]?.success).toBe(true);
    expect(client.collect("OP_REJECTED")).toEqual([]);
    expect(synced.records).toEqual([{ key: "k", record: { value: "newer", timestamp: newer } }]);
  });

  it("keeps the stored record when a write with an equal HLC arrives", async () => {
    const map = uniqueName("equal");
    const client = await clients.authed({ map });
    const ts: Timestamp = { millis: Date.now() - 1_000, counter: 0, nodeId: "nodea" };
    await client.write([lwwPut(map, "k", "first", ts)]);

    await client.write([lwwPut(map, "k", "second", { ...ts })]);
    const synced = await clientSync(client, map, new LWWMap(new HLC("reader")));

    expect(synced.records).toEqual([{ key: "k", record: { value: "first", timestamp: ts } }]);
  });
});
