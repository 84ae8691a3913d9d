import type { HLC } from "../../core/hlc.ts";
import type { LWWRecord } from "../../core/lww-map.ts";
import { LeafSums } from "../../core/merkle-tree.ts";
import type { ORMapEntry } from "../../core/or-record.ts";
import { partitionOf, partitionsOfMap, shardCountOf, type ShardConfig } from "../../core/placement.ts";
import type { ChangesSince, MerkleAnswer, SyncOwner } from "./sync-owner.ts";
import { changesSinceFor, deltaFrames, orDeltaFrames, rootTimestamp } from "./delta-resync.ts";
import type { TreeKind } from "../writes/merkle-store.ts";
import type { SqlPort } from "../storage/sql-port.ts";
import { readShardedSubtree, type GatheredShards } from "./sharded-subtree.ts";

/** How long a home reuses the leaf sums it gathered from a sharded map's shards during one sync exchange. */
const GATHERED_SUMS_TTL_MS = 30_000;
/**
 * A fresh client's pull (SYNC_INIT or ORMAP_SYNC_INIT without lastSyncTimestamp): a node above the leaves whose
 * subtree holds at most this many records (OR map: keys, and records plus tombstones) is answered with them, in one
 * SYNC_RESP_LEAF or ORMAP_SYNC_RESP_LEAF (the TopGun client merges a leaf reply whatever its path and asks nothing
 * below it), so 10,000 keys take ~17 round trips instead of ~3,800. For FRESH_PULL_TTL_MS.
 */
const FRESH_PULL_RECORDS = 1000;
const FRESH_PULL_TTL_MS = 30_000;
/** Fresh pulls remembered at once (oldest forgotten first: such a pull then walks down to the leaves as usual). */
const MAX_FRESH_PULLS = 1024;
const PATH_PATTERN = /^[0-9a-f]*$/;
const KIND_CODE: Record<TreeKind, number> = { lww: 1, or: 2 };

interface Gathered extends GatheredShards {
  at: number;
}

export type SyncReply = (message: unknown) => void;

/**
 * Home role, Merkle delta sync (PROTOCOL.md §8): answers roots, buckets and leaves from the owners' leaf sums.
 * An unsharded map asks its one owner; a sharded map's tree is the sum of its shards' trees.
 */
export class SyncCoordinator {
  readonly #owners: (partition: number) => SyncOwner;
  readonly #shards: () => ShardConfig;
  readonly #sql: SqlPort;
  readonly #hlc: HLC;
  readonly #home: number;
  readonly #clock: () => number;
  readonly #gathered = new Map<string, Gathered>();
  /** `conn\u0000kind\u0000map` → since when: pulls of clients that hold none of the map. */
  readonly #freshPulls = new Map<string, number>();

  constructor(deps: {
    owners: (partition: number) => SyncOwner;
    shards: () => ShardConfig;
    sql: SqlPort;
    hlc: HLC;
    home: number;
    clock?: () => number;
  }) {
    this.#owners = deps.owners;
    this.#shards = deps.shards;
    this.#sql = deps.sql;
    this.#hlc = deps.hlc;
    this.#home = deps.home;
    this.#clock = deps.clock ?? Date.now;
  }

  /**
   * The connection starts a pull of `map` (an LWW map unless `kind` says otherwise); `fresh` when it holds none of it
   * (it sent no lastSyncTimestamp).
   */
  notePull(conn: string, map: string, { fresh, kind = "lww" }: { fresh: boolean; kind?: TreeKind }): void {
    const id = pullId(conn, kind, map);
    this.#freshPulls.delete(id);
    if (!fresh) return;
    this.#freshPulls.set(id, this.#clock());
    if (this.#freshPulls.size > MAX_FRESH_PULLS) this.#freshPulls.delete(this.#freshPulls.keys().next().value ?? "");
  }

  /**
   * SYNC_INIT / ORMAP_SYNC_INIT: registers the connection for the map's events and answers the root. A client that
   * sent `lastSync` gets what changed since then first (delta-resync.ts): LWW records, or OR-Map entries.
   */
  async init(conn: string, kind: TreeKind, map: string, reply: SyncReply, lastSync?: number): Promise<void> {
    this.#sql.exec(
      "INSERT INTO conn_interest (conn, kind, map) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      conn,
      KIND_CODE[kind],
      map,
    );
    // The session notes an LWW pull itself (dispatch.ts); an OR map's is noted here.
    if (kind === "or") this.notePull(conn, map, { fresh: !lastSync, kind });
    const since = changesSinceFor(lastSync, partitionsOfMap(this.#shards(), map).length);
    const gathered = await this.#gather(kind, map, { home: this.#home, conn }, since);
    const frames = kind === "lww" ? deltaFrames(map, gathered.changes) : orDeltaFrames(map, gathered.orChanges);
    for (const frame of frames) reply(frame);
    const type = kind === "lww" ? "SYNC_RESP_ROOT" : "ORMAP_SYNC_RESP_ROOT";
    const timestamp = rootTimestamp(this.#hlc.now(), gathered.clocks);
    reply({ type, payload: { mapName: map, rootHash: gathered.total.root(), timestamp } });
  }

  /** MERKLE_REQ_BUCKET / ORMAP_MERKLE_REQ_BUCKET: buckets, a leaf, or no reply for a path that does not exist. */
  async bucket(conn: string, kind: TreeKind, map: string, path: string, reply: SyncReply): Promise<boolean> {
    if (!PATH_PATTERN.test(path)) return false;
    const answer = await this.#answer(conn, kind, map, path);
    const prefix = kind === "lww" ? "SYNC_RESP" : "ORMAP_SYNC_RESP";
    switch (answer.type) {
      case "missing":
        break;
      case "buckets":
        reply({ type: `${prefix}_BUCKETS`, payload: { mapName: map, path, buckets: answer.buckets } });
        break;
      case "lww-leaf":
        reply({ type: "SYNC_RESP_LEAF", payload: { mapName: map, path, records: answer.records } });
        break;
      case "or-leaf":
        reply({ type: "ORMAP_SYNC_RESP_LEAF", payload: { mapName: map, path, entries: answer.entries } });
        break;
    }
    return true;
  }

  /** ORMAP_DIFF_REQUEST: one entry per requested key, gathered from the keys' owners. */
  async orDiff(map: string, keys: readonly string[], reply: SyncReply): Promise<void> {
    const byOwner = this.#groupByOwner(map, keys);
    const shards = shardCountOf(this.#shards(), map);
    const found = new Map<string, ORMapEntry>();
    await Promise.all(
      [...byOwner].map(async ([partition, ownerKeys]) => {
        for (const entry of await this.#owners(partition).orDiff({ map, keys: ownerKeys, shards })) found.set(entry.key, entry);
      }),
    );
    const entries = keys.map((key) => found.get(key) ?? { key, records: [], tombstones: [] });
    reply({ type: "ORMAP_DIFF_RESPONSE", payload: { mapName: map, entries } });
  }

  /** ORMAP_PUSH_DIFF: merges each entry at its owner (mergeKey; never a replace). */
  async pushDiff(conn: string, map: string, entries: readonly ORMapEntry[]): Promise<void> {
    const byOwner = new Map<number, ORMapEntry[]>();
    for (const entry of entries) {
      const owner = partitionOf(this.#shards(), map, entry.key);
      const list = byOwner.get(owner);
      if (list) list.push(entry);
      else byOwner.set(owner, [entry]);
    }
    const writer = { home: this.#home, conn };
    await Promise.all([...byOwner].map(([partition, list]) => this.#owners(partition).pushOrDiff({ map, entries: list, writer })));
  }

  /** The connection closed: forgets the maps it synced here; answers their owners (connection-close.ts). */
  forgetConnection(conn: string): number[] {
    for (const id of this.#freshPulls.keys()) if (id.startsWith(`${conn}\u0000`)) this.#freshPulls.delete(id);
    const maps = this.#sql.exec("SELECT DISTINCT map FROM conn_interest WHERE conn = ?", conn).map((row) => String(row.map));
    if (maps.length > 0) this.#sql.exec("DELETE FROM conn_interest WHERE conn = ?", conn);
    return maps.flatMap((map) => partitionsOfMap(this.#shards(), map));
  }

  async #answer(conn: string, kind: TreeKind, map: string, path: string): Promise<MerkleAnswer> {
    const partitions = partitionsOfMap(this.#shards(), map);
    if (partitions.length === 1) {
      const fresh = this.#isFreshPull(conn, kind, map);
      return this.#owners(partitions[0]!).merkle({ kind, map, path, shards: 1, ...(fresh ? { recordsUpTo: FRESH_PULL_RECORDS } : {}) });
    }
    const gathered = this.#fresh(kind, map) ?? (await this.#gather(kind, map, { home: this.#home, conn }));
    if (path.length < 3 && this.#isFreshPull(conn, kind, map)) {
      const request = { owners: this.#owners, kind, map, path, gathered, upTo: FRESH_PULL_RECORDS };
      const whole = await readShardedSubtree(request);
      if (whole) return whole;
    }
    if (path.length < 3) {
      const buckets = gathered.total.buckets(path);
      return buckets ? { type: "buckets", buckets } : { type: "missing" };
    }
    if (path.length > 3 || !gathered.total.isLeafWithEntries(path)) return { type: "missing" };
    const leaf = Number.parseInt(path, 16);
    const holders = gathered.shards.filter((shard) => (shard.sums.counts[leaf] ?? 0) > 0);
    const answers = await Promise.all(holders.map((s) => this.#owners(s.partition).readLeaf({ kind, map, leaf, shards: partitions.length })));
    if (kind === "lww") {
      return { type: "lww-leaf", records: answers.flatMap((a) => (a.type === "lww-leaf" ? a.records : [])) };
    }
    return { type: "or-leaf", entries: answers.flatMap((a) => (a.type === "or-leaf" ? a.entries : [])) };
  }

  #isFreshPull(conn: string, kind: TreeKind, map: string): boolean {
    const id = pullId(conn, kind, map);
    const since = this.#freshPulls.get(id);
    if (since === undefined) return false;
    if (this.#clock() - since < FRESH_PULL_TTL_MS) return true;
    this.#freshPulls.delete(id);
    return false;
  }

  #fresh(kind: TreeKind, map: string): Gathered | undefined {
    const gathered = this.#gathered.get(`${kind}\u0000${map}`);
    return gathered && this.#clock() - gathered.at < GATHERED_SUMS_TTL_MS ? gathered : undefined;
  }

  async #gather(
    kind: TreeKind,
    map: string,
    listener: { home: number; conn: string },
    changesSince?: ChangesSince,
  ): Promise<Gathered & { clocks: number[]; changes: { key: string; record: LWWRecord }[]; orChanges: ORMapEntry[] }> {
    const partitions = partitionsOfMap(this.#shards(), map);
    const answers = await Promise.all(
      partitions.map(async (partition) => {
        const request = { kind, map, listener, shards: partitions.length, ...(changesSince ? { changesSince } : {}) };
        const answer = await this.#owners(partition).syncInit(request);
        const { changes = [], orChanges = [], tombstones = 0 } = answer;
        return { partition, sums: LeafSums.decode(answer.sums), at: answer.at, changes, orChanges, tombstones };
      }),
    );
    const shards = answers.map(({ partition, sums }) => ({ partition, sums }));
    const tombstones = answers.reduce((n, a) => n + a.tombstones, 0);
    const gathered = { at: this.#clock(), total: LeafSums.sum(shards.map((s) => s.sums)), shards, tombstones };
    if (partitions.length > 1) this.#gathered.set(`${kind}\u0000${map}`, gathered);
    const changes = answers.flatMap((a) => a.changes);
    return { ...gathered, clocks: answers.map((a) => a.at), changes, orChanges: answers.flatMap((a) => a.orChanges) };
  }

  #groupByOwner(map: string, keys: readonly string[]): Map<number, string[]> {
    const byOwner = new Map<number, string[]>();
    for (const key of keys) {
      const owner = partitionOf(this.#shards(), map, key);
      const list = byOwner.get(owner);
      if (list) list.push(key);
      else byOwner.set(owner, [key]);
    }
    return byOwner;
  }
}

/** A connection's pull of one map; starts with the connection, so forgetConnection finds its pulls by prefix. */
function pullId(conn: string, kind: TreeKind, map: string): string {
  return `${conn}\u0000${kind}\u0000${map}`;
}
