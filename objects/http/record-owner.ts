import type { Timestamp } from "../../core/hlc.ts";
import type { LWWRecord } from "../../core/lww-map.ts";

/** A record as an owner stores it (tombstones have value null). */
export interface StoredRecord {
  key: string;
  record: LWWRecord;
}

/** What HTTP reads ask of the owner of a key or of a map's shard (one call each; tombstones included). */
export interface RecordOwner {
  /** The stored records of the keys that have one. */
  readRecords(request: { map: string; keys: string[]; shards?: number }): Promise<StoredRecord[]>;
  /** The records written after `since`, oldest first, at most `limit` (`/sync`'s `syncMaps`). */
  readSince(request: { map: string; since: Timestamp; limit: number; shards?: number }): Promise<StoredRecord[]>;
}
