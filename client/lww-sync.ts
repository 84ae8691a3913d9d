import type { ClientMessage } from "../core/protocol/message.ts";
import type { SyncRespBucketsMessage, SyncRespLeafMessage, SyncRespRootMessage } from "../core/protocol/sync.ts";
import type { LWWMapHandle } from "./lww-map-handle.ts";

type Send = (message: ClientMessage) => void;

/** The SYNC_INIT that starts a Merkle pull of `handle` (PROTOCOL.md §8.1). */
export function lwwSyncInit(handle: LWWMapHandle, lastSyncTimestamp: number): ClientMessage {
  return { type: "SYNC_INIT", mapName: handle.name, lastSyncTimestamp };
}

/** Compares roots; a difference starts the walk at the top of the tree. */
export function handleLwwRoot(handle: LWWMapHandle, message: SyncRespRootMessage, send: Send): void {
  const { mapName, rootHash } = message.payload;
  if (handle.crdt.merkleTree.getRootHash() !== rootHash) send({ type: "MERKLE_REQ_BUCKET", payload: { mapName, path: "" } });
}

/**
 * Asks for every child whose hash differs. Children only this client has are left alone: the LWW pull
 * only pulls, and local writes reach the server through the op log.
 */
export function handleLwwBuckets(handle: LWWMapHandle, message: SyncRespBucketsMessage, send: Send): void {
  const { mapName, path, buckets } = message.payload;
  const local = handle.crdt.merkleTree.getBuckets(path);
  for (const [digit, remoteHash] of Object.entries(buckets)) {
    if ((local[digit] ?? 0) !== remoteHash) send({ type: "MERKLE_REQ_BUCKET", payload: { mapName, path: path + digit } });
  }
}

/** Merges the leaf's records; winners are stored. */
export function handleLwwLeaf(handle: LWWMapHandle, message: SyncRespLeafMessage): void {
  for (const { key, record } of message.payload.records) handle.mergeRemote(key, record);
}
