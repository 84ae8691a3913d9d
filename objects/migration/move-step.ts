import type { Query, SearchOptions } from "../../core/protocol/shared.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import type { JournalFilter } from "../journal/journal-service.ts";
import type { TermStats } from "../search/term-stats.ts";
import type { StoredOrEntry } from "../writes/or-store.ts";
import type { CutOverResult, LeafPage } from "./map-mover.ts";
import type { OrPage } from "./or-mover.ts";
import type { MovedRecord } from "./staging-store.ts";

/** What an old owner keeps of one OR-Map key (records, aged tombstones), as it travels to the key's new owner. */
export type MovedOrEntry = StoredOrEntry;

/** The subscriptions an old owner holds on a map, as the new owners register them at the cut-over. */
export interface MovedSubscriptions {
  queries: { queryId: string; query: Query; fields?: string[]; subscriber: ConnectionRef }[];
  searches: { subscriptionId: string; query: string; options: SearchOptions; stats?: TermStats; subscriber: ConnectionRef }[];
  journals: { subscriptionId: string; filter: JournalFilter; subscriber: ConnectionRef }[];
  listeners: { kind: "lww-sync" | "or-sync"; home: number; conn: string }[];
}

/**
 * One step of an online reshard, as the namespace's control object asks a partition (Partition.ownerMove). Each is
 * idempotent, so the control object's alarm may send it again after a crash on either side.
 */
export type MoveStep =
  /** Old owner: start noting the keys writes name. */
  | { op: "track"; map: string }
  /** Old owner: the records of a range of leaves from `fromLeaf`, about `limit` of them. */
  | { op: "export"; map: string; fromLeaf: number; limit: number }
  /** Old owner: the OR-Map entries of up to `limit` keys after `after` (null: from the first key). */
  | { op: "exportOr"; map: string; after: string | null; limit: number }
  /** New owner: merge copied records (and OR-Map entries) into the staging copy. */
  | { op: "stage"; map: string; records: MovedRecord[]; orEntries?: MovedOrEntry[] }
  /** Old owner: the current records and OR-Map entries of up to `limit` keys written since they were copied. */
  | { op: "dirty"; map: string; limit: number }
  /** Old owner: those keys are copied. */
  | { op: "clearDirty"; map: string; upToSeq: number }
  /** Every partition of both placements: hold the map's writes, subscriptions and reads. */
  | { op: "hold"; map: string }
  /** Old owner: the subscriptions it holds on the map. */
  | { op: "subscriptions"; map: string }
  /** Every partition: keep only its keys under `toShards`, merge its staging copy, fence at `toShards`, then register `adopt` (new owners) or drop the map's subscriptions (partitions that own none of it now). */
  | { op: "cutOver"; map: string; toShards: number; adopt?: MovedSubscriptions }
  /** Every partition: let what the map's hold kept waiting go on (it meets the new fence). */
  | { op: "release"; map: string };

/** A partition's answer to a MoveStep. */
export type MoveAnswer =
  | { op: "done" }
  | ({ op: "export" } & LeafPage)
  | ({ op: "exportOr" } & OrPage)
  | { op: "dirty"; records: MovedRecord[]; orEntries: MovedOrEntry[]; upToSeq: number }
  | { op: "subscriptions"; subscriptions: MovedSubscriptions }
  | ({ op: "cutOver" } & CutOverResult);
