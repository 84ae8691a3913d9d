// Client side of Merkle delta sync (PROTOCOL.md §8) for end-to-end tests: pulls what differs from the server
// into core's LWWMap / ORMap, counting what came over the wire.
import type { LWWMap } from "../../core/lww-map.ts";
import type { MerkleTree } from "../../core/merkle-tree.ts";
import type { ORMap } from "../../core/or-map.ts";
import type { ServerMessage } from "../../core/protocol/message.ts";
import type { LWWRecord, ORMapEntry } from "../../core/protocol/shared.ts";
import type { MessageOf, TestClient, WaitOptions } from "./ws-client.ts";

export interface SyncResult<T> {
  /** The server's root hash (SYNC_RESP_ROOT / ORMAP_SYNC_RESP_ROOT). */
  serverRoot: number;
  /** What the leaf replies carried, in arrival order. */
  received: T[];
  /** Bucket requests sent (MERKLE_REQ_BUCKET / ORMAP_MERKLE_REQ_BUCKET). */
  requests: number;
  leafReplies: number;
  bucketReplies: number;
  /** Bytes of the root, bucket and leaf frames of this exchange. */
  bytesReceived: number;
}

export interface LwwSyncResult extends SyncResult<{ key: string; record: LWWRecord }> {
  /** Every record received: the delta's, then the walk's leaves'. */
  records: { key: string; record: LWWRecord }[];
  /** The records of the SYNC_RESP_LEAF frames that came before the root (a returning client's delta). */
  delta: { key: string; record: LWWRecord }[];
  /** The server's clock in SYNC_RESP_ROOT (millis): what a client sends as lastSyncTimestamp next time. */
  serverMillis: number;
}

type LwwReply = MessageOf<"SYNC_RESP_BUCKETS"> | MessageOf<"SYNC_RESP_LEAF">;
type OrReply = MessageOf<"ORMAP_SYNC_RESP_BUCKETS"> | MessageOf<"ORMAP_SYNC_RESP_LEAF">;

/**
 * Drives the LWW Merkle pull of §8.1 to completion: SYNC_INIT (with `lastSyncTimestamp` when given, as a client that
 * synced before sends it; without, the pull of a client that holds nothing), then MERKLE_REQ_BUCKET for every child
 * whose hash differs from `local`'s tree, merging each leaf's records into `local`. Ends when every request is answered.
 */
export async function clientSync(
  client: TestClient,
  mapName: string,
  local: LWWMap,
  options: WaitOptions & { lastSyncTimestamp?: number } = {},
): Promise<LwwSyncResult> {
  const { lastSyncTimestamp } = options;
  client.send({ type: "SYNC_INIT", mapName, ...(lastSyncTimestamp === undefined ? {} : { lastSyncTimestamp }) });
  // A returning client may get SYNC_RESP_LEAF frames before the root: the records changed since its last sync.
  const delta: { key: string; record: LWWRecord }[] = [];
  let deltaBytes = 0;
  let root: MessageOf<"SYNC_RESP_ROOT"> | undefined;
  while (root === undefined) {
    const message = await client.waitFor(
      (m): m is MessageOf<"SYNC_RESP_ROOT"> | MessageOf<"SYNC_RESP_LEAF"> =>
        (m.type === "SYNC_RESP_ROOT" || m.type === "SYNC_RESP_LEAF") && m.payload.mapName === mapName,
      { description: `SYNC_RESP_ROOT of ${mapName}`, ...options },
    );
    if (message.type === "SYNC_RESP_ROOT") {
      root = message;
      break;
    }
    deltaBytes += client.frameBytes(message);
    for (const item of message.payload.records) {
      delta.push(item);
      local.merge(item.key, item.record);
    }
  }
  const result = await traverse<LwwReply, { key: string; record: LWWRecord }>({
    client,
    mapName,
    tree: local.merkleTree,
    serverRoot: root.payload.rootHash,
    rootBytes: client.frameBytes(root),
    request: (path) => ({ type: "MERKLE_REQ_BUCKET", payload: { mapName, path } }),
    isReply: (m): m is LwwReply =>
      (m.type === "SYNC_RESP_BUCKETS" || m.type === "SYNC_RESP_LEAF") && m.payload.mapName === mapName,
    leafItems: (m) => (m.type === "SYNC_RESP_LEAF" ? m.payload.records : undefined),
    merge: (item) => local.merge(item.key, item.record),
    options,
  });
  return {
    ...result,
    bytesReceived: result.bytesReceived + deltaBytes,
    records: [...delta, ...result.received],
    delta,
    serverMillis: root.payload.timestamp?.millis ?? 0,
  };
}

/**
 * The OR-Map pull of §8.2: ORMAP_SYNC_INIT with `local`'s root and root buckets, then ORMAP_MERKLE_REQ_BUCKET for
 * differing children, merging leaf entries with mergeKey. Pushes nothing back (tests push explicitly).
 */
export async function clientOrSync(client: TestClient, mapName: string, local: ORMap, options: WaitOptions = {}): Promise<SyncResult<ORMapEntry>> {
  const tree = local.merkleTree;
  client.send({ type: "ORMAP_SYNC_INIT", mapName, rootHash: tree.getRootHash(), bucketHashes: tree.getBuckets("") });
  const root = await client.waitFor("ORMAP_SYNC_RESP_ROOT", { ...options, where: (m) => m.payload.mapName === mapName });
  return traverse<OrReply, ORMapEntry>({
    client,
    mapName,
    tree,
    serverRoot: root.payload.rootHash,
    rootBytes: client.frameBytes(root),
    request: (path) => ({ type: "ORMAP_MERKLE_REQ_BUCKET", payload: { mapName, path } }),
    isReply: (m): m is OrReply =>
      (m.type === "ORMAP_SYNC_RESP_BUCKETS" || m.type === "ORMAP_SYNC_RESP_LEAF") && m.payload.mapName === mapName,
    leafItems: (m) => (m.type === "ORMAP_SYNC_RESP_LEAF" ? m.payload.entries : undefined),
    merge: (entry) => {
      local.mergeKey(entry.key, entry.records, entry.tombstones);
    },
    options,
  });
}

interface Traversal<R extends LwwReply | OrReply, T> {
  client: TestClient;
  mapName: string;
  tree: MerkleTree;
  serverRoot: number;
  rootBytes: number;
  request: (path: string) => unknown;
  isReply: (message: ServerMessage) => message is R;
  /** The items of a leaf reply; undefined for a bucket reply. */
  leafItems: (reply: R) => readonly T[] | undefined;
  merge: (item: T) => void;
  options: WaitOptions;
}

async function traverse<R extends LwwReply | OrReply, T>(t: Traversal<R, T>): Promise<SyncResult<T>> {
  const result: SyncResult<T> = {
    serverRoot: t.serverRoot,
    received: [],
    requests: 0,
    leafReplies: 0,
    bucketReplies: 0,
    bytesReceived: t.rootBytes,
  };
  if (t.tree.getRootHash() === t.serverRoot) return result;
  const pending = new Set<string>();
  const ask = (path: string) => {
    pending.add(path);
    result.requests++;
    t.client.send(t.request(path));
  };
  ask("");
  while (pending.size > 0) {
    const reply = await t.client.waitFor((m): m is R => t.isReply(m) && pending.has(m.payload.path), {
      description: `a bucket or leaf reply of ${t.mapName} for one of [${[...pending].slice(0, 10).join(", ")}]`,
      ...t.options,
    });
    const path = reply.payload.path;
    pending.delete(path);
    result.bytesReceived += t.client.frameBytes(reply);
    const items = t.leafItems(reply);
    if (items !== undefined) {
      result.leafReplies++;
      for (const item of items) {
        result.received.push(item);
        t.merge(item);
      }
      continue;
    }
    result.bucketReplies++;
    if (!("buckets" in reply.payload)) continue;
    const localBuckets = t.tree.getBuckets(path);
    for (const [digit, hash] of Object.entries(reply.payload.buckets)) {
      if ((localBuckets[digit] ?? 0) !== hash) ask(path + digit);
    }
  }
  return result;
}
