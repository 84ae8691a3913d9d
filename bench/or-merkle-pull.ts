import { HLC } from "../core/hlc.ts";
import { ORMap } from "../core/or-map.ts";
import type { ORMapEntry } from "../core/or-record.ts";
import type { BenchSocket } from "./bench-socket.ts";

/** A client-side replica of one OR map (core's ORMap, whose Merkle tree hashes entries as the server does). */
export function orReplica(): ORMap {
  return new ORMap(new HLC("bench-reader"));
}

/**
 * Pulls `map` into `replica` with the OR-Map Merkle exchange (PROTOCOL.md §8.2): ORMAP_SYNC_INIT, then an
 * ORMAP_MERKLE_REQ_BUCKET for every child whose hash differs, until no request is outstanding. A returning client
 * may get ORMAP_DIFF_RESPONSE frames before the root (the keys changed since its last sync): merged with mergeKey.
 * The replica only reads, so it pushes nothing back.
 */
export async function orMerklePull(
  socket: BenchSocket,
  map: string,
  replica: ORMap,
  lastSyncTimestamp?: number,
): Promise<{ requests: number; entries: number; deltaFrames: number; rootHash: number; serverMillis: number }> {
  let outstanding = 0;
  let requests = 0;
  let entries = 0;
  let rootHash: number | undefined;
  let delta = 0;
  let serverMillis = 0;
  const merge = (list: ORMapEntry[]) => {
    for (const entry of list) replica.mergeKey(entry.key, entry.records, entry.tombstones);
    entries += list.length;
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`OR sync of ${map} did not finish (${outstanding} outstanding)`)), 300_000);
    const request = (path: string) => {
      outstanding++;
      requests++;
      socket.send({ type: "ORMAP_MERKLE_REQ_BUCKET", payload: { mapName: map, path } });
    };
    const settle = () => {
      if (outstanding === 0) {
        clearTimeout(timer);
        resolve();
      }
    };
    socket.onMessage((message) => {
      const payload = message.payload ?? {};
      if (payload.mapName !== map) return;
      if (message.type === "ORMAP_SYNC_RESP_ROOT") {
        outstanding--;
        rootHash = Number(payload.rootHash);
        const timestamp = payload.timestamp;
        if (typeof timestamp === "object" && timestamp !== null && "millis" in timestamp) serverMillis = Number(timestamp.millis);
        if (rootHash !== replica.merkleTree.getRootHash()) request("");
        settle();
      } else if (message.type === "ORMAP_SYNC_RESP_BUCKETS") {
        outstanding--;
        const path = String(payload.path);
        const local = replica.merkleTree.getBuckets(path);
        for (const [child, hash] of Object.entries(payload.buckets as Record<string, number>)) {
          if ((local[child] ?? 0) !== hash) request(path + child);
        }
        settle();
      } else if (message.type === "ORMAP_SYNC_RESP_LEAF") {
        outstanding--;
        merge(payload.entries as ORMapEntry[]);
        settle();
      } else if (message.type === "ORMAP_DIFF_RESPONSE" && rootHash === undefined) {
        delta++;
        merge(payload.entries as ORMapEntry[]);
      }
    });
    outstanding++;
    const tree = replica.merkleTree;
    socket.send({
      type: "ORMAP_SYNC_INIT",
      mapName: map,
      rootHash: tree.getRootHash(),
      bucketHashes: tree.getBuckets(""),
      ...(lastSyncTimestamp === undefined ? {} : { lastSyncTimestamp }),
    });
  });
  return { requests, entries, deltaFrames: delta, rootHash: rootHash ?? 0, serverMillis };
}
