import type { LWWRecord } from "../core/lww-map.ts";
import type { LeafSumsWire } from "../core/merkle-tree.ts";
import type { ORMapEntry, ORMapRecord } from "../core/or-record.ts";
import type { ErrorKind } from "../core/errors.ts";
import type { QueryEntry } from "../core/predicate.ts";
import type { JournalEventData, Query } from "../core/protocol/shared.ts";
import type { ConnectionRef } from "./delivery/event-fanout.ts";
import type { TreeKind } from "./writes/merkle-store.ts";
import type { JournalFilter } from "./journal/journal-service.ts";
import type { SearchResult } from "./search/search-service.ts";
import type { SearchOptions } from "../core/protocol/shared.ts";

/** One key's answer to an entry processor (the wire shape of ENTRY_PROCESS_RESPONSE without requestId). */
export interface ProcessOutcome {
  success: boolean;
  result?: unknown;
  newValue?: unknown;
  error?: string;
}

/** One validated write, as the home sends it to the owner of its key. */
export type OwnerOp = LwwOwnerOp | OrOwnerOp;
export type LwwOwnerOp = { index: number; type: "PUT" | "REMOVE"; map: string; key: string; record: LWWRecord };
export type OrOwnerOp =
  | { index: number; type: "OR_ADD"; map: string; key: string; record: ORMapRecord }
  | { index: number; type: "OR_REMOVE"; map: string; key: string; tag: string };

export function isLwwOp(op: OwnerOp): op is LwwOwnerOp {
  return op.type === "PUT" || op.type === "REMOVE";
}

/** The owner's answer for one op: applied (or lost the merge, which is not an error), or rejected. */
export type OwnerOpOutcome = { index: number; ok: true; persisted?: boolean } | { index: number; ok: false; kind: ErrorKind; message: string };

/** What a Merkle path of one owner's map holds. */
export type MerkleAnswer =
  | { type: "missing" }
  | { type: "buckets"; buckets: Record<string, number> }
  | { type: "lww-leaf"; records: { key: string; record: LWWRecord }[] }
  | { type: "or-leaf"; entries: ORMapEntry[] };

/**
 * The owner role of a partition, as the home calls it: directly when the home owns the map, else by RPC.
 * Every method takes one plain object so the RPC form is the same call.
 */
export interface OwnerApi {
  /** With `persist`, the owner also waits for Postgres and marks each applied op `persisted` when it got there. */
  apply(request: { ops: OwnerOp[]; writer: ConnectionRef; persist?: boolean }): Promise<OwnerOpOutcome[]>;
  /** Write-through state of this partition (undefined while Postgres is not configured). */
  stats(): Promise<{ depth: number; lagMs: number } | undefined>;
  syncInit(request: { kind: TreeKind; map: string; listener: ConnectionRef }): Promise<LeafSumsWire>;
  merkle(request: { kind: TreeKind; map: string; path: string }): Promise<MerkleAnswer>;
  readLeaf(request: { kind: TreeKind; map: string; leaf: number }): Promise<MerkleAnswer>;
  orDiff(request: { map: string; keys: string[] }): Promise<ORMapEntry[]>;
  pushOrDiff(request: { map: string; entries: ORMapEntry[]; writer: ConnectionRef }): Promise<void>;
  dropConnection(request: ConnectionRef): Promise<void>;
  querySubscribe(request: { map: string; queryId: string; query: Query; subscriber: ConnectionRef }): Promise<QueryEntry[]>;
  queryUnsubscribe(request: { queryId: string; subscriber: ConnectionRef }): Promise<void>;
  /** Full-text search of this owner's part of the map: best first, `minScore` and `limit` applied. */
  search(request: { map: string; query: string; options: SearchOptions }): Promise<SearchResult[]>;
  /** Registers a search subscription (its results become its current set) and answers those results. */
  searchSubscribe(request: { map: string; subscriptionId: string; query: string; options: SearchOptions; subscriber: ConnectionRef }): Promise<SearchResult[]>;
  searchUnsubscribe(request: { subscriptionId: string; subscriber: ConnectionRef }): Promise<void>;
  /** Runs a built-in entry processor on each key atomically (read, compute, write in one transaction). */
  process(request: { map: string; keys: string[]; processor: { name: string; args?: unknown }; writer: ConnectionRef }): Promise<Record<string, ProcessOutcome>>;
  /** This owner's journal events from `fromSequence` (inclusive), in order, at most `limit`. */
  journalRead(request: { fromSequence: string; limit: number; map?: string }): Promise<JournalEventData[]>;
  /** Registers a journal subscription; answers the backlog from `fromSequence` when given. */
  journalSubscribe(request: { subscriptionId: string; fromSequence?: string; filter: JournalFilter; subscriber: ConnectionRef }): Promise<JournalEventData[]>;
  journalUnsubscribe(request: { subscriptionId: string; subscriber: ConnectionRef }): Promise<void>;
}


export type { LeafSumsWire };
