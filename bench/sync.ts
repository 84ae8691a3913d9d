import { round } from "./measure.ts";
import { BenchSocket } from "./bench-socket.ts";
import { Replica, merklePull } from "./merkle-pull.ts";
import { orMerklePull, orReplica } from "./or-merkle-pull.ts";

const SYNC_KEYS = 10_000;

/**
 * Time and bytes of a fresh client's Merkle sync of a 10,000-key map, and of a re-sync after 1% changed offline: for
 * an LWW map, then (`orMap`) for an OR map whose 1% is half adds to existing keys, half removes; and
 * (`shardedFullSync`) a fresh client's sync of 10,000 keys of `shardedMap`, a map the server shards.
 */
export async function syncCost(wsUrl: (p: Record<string, string>) => string, shardedMap: { name: string; shards: number }) {
  return { ...(await lwwSyncCost(wsUrl)), orMap: await orSyncCost(wsUrl), shardedFullSync: await shardedSyncCost(wsUrl, shardedMap) };
}

/** Writes `keys` of `map` through `writer` in acknowledged batches of 500 (values tagged `tag`). */
async function writeKeys(writer: BenchSocket, map: string, keys: readonly string[], tag: string): Promise<void> {
  for (let start = 0; start < keys.length; start += 500) {
    const now = Date.now();
    const ops = keys.slice(start, start + 500).map((key, i) => ({
      id: `${tag}-${start + i}`,
      mapName: map,
      key,
      record: { value: { key, tag, score: i }, timestamp: { millis: now, counter: i, nodeId: "bench-writer" } },
    }));
    const acked = writer.next("OP_ACK");
    writer.send({ type: "OP_BATCH", payload: { ops } });
    await acked;
  }
}

async function shardedSyncCost(wsUrl: (p: Record<string, string>) => string, sharded: { name: string; shards: number }) {
  const writer = await BenchSocket.open(wsUrl({ clientId: `bench-sharded-writer-${Date.now()}` }));
  await writeKeys(writer, sharded.name, Array.from({ length: SYNC_KEYS }, (_, i) => `item-${i}`), "v1");
  const reader = await BenchSocket.open(wsUrl({ clientId: `bench-sharded-reader-${Date.now()}` }));
  const replica = new Replica();
  const before = reader.bytesIn;
  const t0 = performance.now();
  const full = await merklePull(reader, sharded.name, replica);
  const ms = performance.now() - t0;
  if (replica.tree.getRootHash() !== full.rootHash || replica.records.size !== SYNC_KEYS) {
    throw new Error(`sharded full sync diverged: ${replica.records.size} records`);
  }
  writer.close();
  reader.close();
  return { keys: SYNC_KEYS, shards: sharded.shards, ms: round(ms), bytes: reader.bytesIn - before, requests: full.requests, records: full.records };
}

async function lwwSyncCost(wsUrl: (p: Record<string, string>) => string) {
  const map = `bench-sync-${Date.now()}`;
  const writer = await BenchSocket.open(wsUrl({ map }));
  const keys = Array.from({ length: SYNC_KEYS }, (_, i) => `item-${i}`);
  const write = (subset: string[], tag: string) => writeKeys(writer, map, subset, tag);
  await write(keys, "v1");

  const reader = await BenchSocket.open(wsUrl({ map }));
  const replica = new Replica();
  const before = reader.bytesIn;
  const t0 = performance.now();
  const full = await merklePull(reader, map, replica);
  const fullMs = performance.now() - t0;
  const fullBytes = reader.bytesIn - before;
  if (replica.tree.getRootHash() !== full.rootHash || replica.records.size !== SYNC_KEYS) {
    throw new Error(`full sync diverged: ${replica.records.size} records`);
  }

  // The reader goes offline, 1% of the keys change, and it comes back with its replica and re-syncs.
  reader.close();
  await write(keys.filter((_, i) => i % 100 === 0), "v2");
  const returning = await BenchSocket.open(wsUrl({ map }));
  const before2 = returning.bytesIn;
  const t1 = performance.now();
  const delta = await merklePull(returning, map, replica, full.serverMillis);
  const deltaMs = performance.now() - t1;
  const deltaBytes = returning.bytesIn - before2;
  if (replica.tree.getRootHash() !== delta.rootHash) throw new Error("re-sync diverged");
  writer.close();
  returning.close();
  return {
    keys: SYNC_KEYS,
    fullSync: { ms: round(fullMs), bytes: fullBytes, requests: full.requests, records: full.records },
    resyncAfter1Percent: {
      ms: round(deltaMs),
      bytes: deltaBytes,
      requests: delta.requests,
      records: delta.records,
      deltaFrames: delta.deltaFrames,
      percentOfFullBytes: round((100 * deltaBytes) / fullBytes),
    },
  };
}


async function orSyncCost(wsUrl: (p: Record<string, string>) => string) {
  const map = `bench-or-sync-${Date.now()}`;
  const writer = await BenchSocket.open(wsUrl({ map }));
  const keys = Array.from({ length: SYNC_KEYS }, (_, i) => `item-${i}`);
  let millis = Date.now();
  const tagOf = new Map<string, string>();
  const send = async (ops: unknown[], tag: string) => {
    for (let start = 0; start < ops.length; start += 500) {
      const batch = ops.slice(start, start + 500).map((op, i) => ({ id: `${tag}-${start + i}`, ...(op as object) }));
      const acked = writer.next("OP_ACK");
      writer.send({ type: "OP_BATCH", payload: { ops: batch } });
      await acked;
    }
  };
  const add = (key: string, tag: string, score: number) => {
    const timestamp = { millis: millis++, counter: 0, nodeId: "bench-writer" };
    const orRecord = { value: { key, tag, score }, timestamp, tag: `${timestamp.millis}:0:bench-writer` };
    tagOf.set(key, orRecord.tag);
    return { mapName: map, key, opType: "OR_ADD", orRecord };
  };
  await send(keys.map((key, i) => add(key, "v1", i)), "v1");

  const reader = await BenchSocket.open(wsUrl({ map }));
  const replica = orReplica();
  const before = reader.bytesIn;
  const t0 = performance.now();
  const full = await orMerklePull(reader, map, replica);
  const fullMs = performance.now() - t0;
  const fullBytes = reader.bytesIn - before;
  if (replica.merkleTree.getRootHash() !== full.rootHash || replica.keys().length !== SYNC_KEYS) {
    throw new Error(`OR full sync diverged: ${replica.keys().length} keys`);
  }

  // The reader goes offline; 1% of the keys change: 50 get a second value, 50 lose theirs.
  reader.close();
  const changed = keys.filter((_, i) => i % 200 === 0);
  const removed = keys.filter((_, i) => i % 200 === 100);
  const removes = removed.map((key) => ({ mapName: map, key, opType: "OR_REMOVE", orTag: tagOf.get(key) }));
  await send([...changed.map((key, i) => add(key, "v2", i)), ...removes], "v2");
  const returning = await BenchSocket.open(wsUrl({ map }));
  const before2 = returning.bytesIn;
  const t1 = performance.now();
  const delta = await orMerklePull(returning, map, replica, full.serverMillis);
  const deltaMs = performance.now() - t1;
  const deltaBytes = returning.bytesIn - before2;
  if (replica.merkleTree.getRootHash() !== delta.rootHash || replica.keys().length !== SYNC_KEYS - removed.length) {
    throw new Error("OR re-sync diverged");
  }
  writer.close();
  returning.close();
  return {
    keys: SYNC_KEYS,
    fullSync: { ms: round(fullMs), bytes: fullBytes, requests: full.requests, entries: full.entries },
    resyncAfter1Percent: {
      ms: round(deltaMs),
      bytes: deltaBytes,
      requests: delta.requests,
      entries: delta.entries,
      deltaFrames: delta.deltaFrames,
      percentOfFullBytes: round((100 * deltaBytes) / fullBytes),
    },
  };
}
