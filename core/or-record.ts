import type { Timestamp } from "./hlc.ts";

/** One value of an OR-Map key; `tag` (normally the HLC string of `timestamp`) identifies it globally. */
export interface ORMapRecord<V = unknown> {
  value: V;
  timestamp: Timestamp;
  tag: string;
  ttlMs?: number;
}

/** A key's state as OR-Map sync exchanges it. */
export interface ORMapEntry<V = unknown> {
  key: string;
  records: ORMapRecord<V>[];
  tombstones: string[];
}
