import type { LWWRecord } from "../../core/lww-map.ts";
import type { ORMapRecord } from "../../core/or-record.ts";
import type { ClientOp } from "../../core/protocol/shared.ts";

/** What a map keeps under one key: an LWW record, or the stored records of an OR-Map key. */
export type StoredValue = { kind: "lww"; record: LWWRecord } | { kind: "or"; records: ORMapRecord[] };

/** One persisted key of one map. `mapId` separates LWW and OR maps that share a name. */
export interface StoredEntry {
  mapId: string;
  key: string;
  value: StoredValue;
}

/** An op not yet acknowledged by the server; `seq` orders the log and is the op's wire id. */
export interface PendingOp {
  seq: number;
  op: ClientOp;
}

/** Changes written in one transaction: all of them land, or none. */
export interface StorageCommit {
  entries?: StoredEntry[];
  deletes?: { mapId: string; key: string }[];
  ops?: PendingOp[];
  meta?: Record<string, unknown>;
}

/**
 * Where a client keeps its state between reloads: map records, the op log and small metadata (node id,
 * HLC, each map's lastSyncTimestamp). Every implementation passes the suite in storage-contract.ts.
 */
export interface StorageAdapter {
  /** Applies `commit` atomically. */
  commit(commit: StorageCommit): Promise<void>;
  /** Every stored entry of `mapId`, in no particular order. */
  loadMap(mapId: string): Promise<StoredEntry[]>;
  /** Forgets every entry of `mapId`. */
  clearMap(mapId: string): Promise<void>;
  /** Every pending op, by ascending `seq`. */
  loadOps(): Promise<PendingOp[]>;
  /** Deletes pending ops with `seq <= throughSeq`. */
  deleteOpsThrough(throughSeq: number): Promise<void>;
  getMeta(key: string): Promise<unknown>;
  /** Releases the underlying resources; the stored data stays. */
  close(): Promise<void>;
}
