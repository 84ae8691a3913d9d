import { MERKLE_DEPTH, type MerkleTree } from "../core/merkle-tree.ts";
import type { ORMapRecord } from "../core/or-record.ts";
import type { ClientMessage } from "../core/protocol/message.ts";
import type {
  ORMapSyncRespBucketsMessage,
  ORMapSyncRespLeafMessage,
  ORMapSyncRespRootMessage,
} from "../core/protocol/sync.ts";
import type { ORMapHandle } from "./or-map-handle.ts";

type Send = (message: ClientMessage) => void;

/** The ORMAP_SYNC_INIT that starts a Merkle exchange of `handle` (PROTOCOL.md §8.2). */
export function orSyncInit(handle: ORMapHandle, lastSyncTimestamp: number): ClientMessage {
  const tree = handle.crdt.merkleTree;
  return {
    type: "ORMAP_SYNC_INIT",
    mapName: handle.name,
    rootHash: tree.getRootHash(),
    bucketHashes: tree.getBuckets(""),
    lastSyncTimestamp,
  };
}

export function handleOrRoot(handle: ORMapHandle, message: ORMapSyncRespRootMessage, send: Send): void {
  const { mapName, rootHash } = message.payload;
  if (handle.crdt.merkleTree.getRootHash() !== rootHash) send({ type: "ORMAP_MERKLE_REQ_BUCKET", payload: { mapName, path: "" } });
}

/**
 * Asks for every child whose hash differs, and pushes the keys under children only this client has
 * (at any depth, where TopGun's client only handles leaves) so the server learns them.
 */
export function handleOrBuckets(handle: ORMapHandle, message: ORMapSyncRespBucketsMessage, send: Send): void {
  const { mapName, path, buckets } = message.payload;
  const tree = handle.crdt.merkleTree;
  const local = tree.getBuckets(path);
  for (const [digit, remoteHash] of Object.entries(buckets)) {
    if ((local[digit] ?? 0) !== remoteHash) send({ type: "ORMAP_MERKLE_REQ_BUCKET", payload: { mapName, path: path + digit } });
  }
  const localOnly: string[] = [];
  for (const [digit, localHash] of Object.entries(local)) {
    if (!(digit in buckets) && localHash !== 0) localOnly.push(...keysUnder(tree, path + digit));
  }
  pushKeys(handle, localOnly, send);
}

/**
 * Merges the leaf's keys, then pushes this client's records for every key of the leaf the server does not hold as
 * this client now does (a key it left out, or whose records differ after the merge); TopGun's client pushes every key.
 */
export function handleOrLeaf(handle: ORMapHandle, message: ORMapSyncRespLeafMessage, send: Send): void {
  const served = new Map<string, string>();
  for (const entry of message.payload.entries) {
    handle.mergeRemoteEntry(entry);
    served.set(entry.key, recordsSignature(entry.records));
  }
  const keys = handle.crdt.merkleTree.getKeysInBucket(message.payload.path);
  pushKeys(handle, keys.filter((key) => served.get(key) !== recordsSignature(handle.crdt.getEntry(key).records)), send);
}

/** A key's records as tags with their timestamps, in tag order: equal when two replicas hold the same records. */
function recordsSignature(records: readonly ORMapRecord[]): string {
  return records
    .map(({ tag, timestamp }) => `${tag}@${timestamp.millis}:${timestamp.counter}:${timestamp.nodeId}`)
    .sort()
    .join("|");
}

/** Keys per ORMAP_PUSH_DIFF; each entry carries the map's whole tombstone list (TopGun's format). */
const PUSH_CHUNK_KEYS = 100;

function pushKeys(handle: ORMapHandle, keys: readonly string[], send: Send): void {
  const entries = keys.map((key) => handle.crdt.getEntry(key)).filter((entry) => entry.records.length > 0);
  for (let start = 0; start < entries.length; start += PUSH_CHUNK_KEYS) {
    send({ type: "ORMAP_PUSH_DIFF", payload: { mapName: handle.name, entries: entries.slice(start, start + PUSH_CHUNK_KEYS) } });
  }
}

/** Every key stored under `path`, walking down to the leaves. */
function keysUnder(tree: MerkleTree, path: string): string[] {
  if (path.length >= MERKLE_DEPTH) return tree.getKeysInBucket(path);
  return Object.keys(tree.getBuckets(path)).flatMap((digit) => keysUnder(tree, path + digit));
}
