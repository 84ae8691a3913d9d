import type { LWWRecord } from "../core/lww-map.ts";
import { MerkleTree, lwwEntryHash } from "../core/merkle-tree.ts";
import type { BenchSocket } from "./bench-socket.ts";

/** A client-side replica of one LWW map: records and their Merkle tree. */
export class Replica {
  readonly records = new Map<string, LWWRecord>();
  readonly tree = new MerkleTree();

  merge(key: string, record: LWWRecord): void {
    this.records.set(key, record);
    this.tree.update(key, lwwEntryHash(key, record.timestamp));
  }
}

/**
 * Pulls `map` into `replica` with the LWW Merkle exchange (PROTOCOL.md §8.1): SYNC_INIT, then a
 * MERKLE_REQ_BUCKET for every child whose hash differs, until no request is outstanding. A returning client may get
 * SYNC_RESP_LEAF frames before the root (the records changed since its last sync): merged like any leaf.
 */
export async function merklePull(
  socket: BenchSocket,
  map: string,
  replica: Replica,
  lastSyncTimestamp?: number,
): Promise<{ requests: number; records: number; deltaFrames: number; rootHash: number; serverMillis: number }> {
  let outstanding = 0;
  let requests = 0;
  let records = 0;
  let rootHash: number | undefined;
  let delta = 0;
  let serverMillis = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sync of ${map} did not finish (${outstanding} outstanding)`)), 120_000);
    const request = (path: string) => {
      outstanding++;
      requests++;
      socket.send({ type: "MERKLE_REQ_BUCKET", payload: { mapName: map, path } });
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
      if (message.type === "SYNC_RESP_ROOT") {
        outstanding--;
        rootHash = Number(payload.rootHash);
        const timestamp = payload.timestamp;
        if (typeof timestamp === "object" && timestamp !== null && "millis" in timestamp) serverMillis = Number(timestamp.millis);
        if (rootHash !== replica.tree.getRootHash()) request("");
        settle();
      } else if (message.type === "SYNC_RESP_BUCKETS") {
        outstanding--;
        const path = String(payload.path);
        const local = replica.tree.getBuckets(path);
        for (const [child, hash] of Object.entries(payload.buckets as Record<string, number>)) {
          if ((local[child] ?? 0) !== hash) request(path + child);
        }
        settle();
      } else if (message.type === "SYNC_RESP_LEAF") {
        // Leaves before the root are the delta of a returning client (records changed since its last sync).
        if (rootHash === undefined) delta++;
        else outstanding--;
        for (const { key, record } of payload.records as { key: string; record: LWWRecord }[]) {
          replica.merge(key, record);
          records++;
        }
        settle();
      }
    });
    outstanding++;
    // A returning client sends the server clock of its last sync; a fresh one sends none (the server may then
    // answer whole subtrees with their records).
    socket.send({ type: "SYNC_INIT", mapName: map, ...(lastSyncTimestamp === undefined ? {} : { lastSyncTimestamp }) });
  });
  return { requests, records, deltaFrames: delta, rootHash: rootHash ?? 0, serverMillis };
}
