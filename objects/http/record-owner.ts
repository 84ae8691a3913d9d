import type { LWWRecord } from "../../core/lww-map.ts";

/** What a point read over HTTP asks of the owner of a key (one call, the records as stored, tombstones included). */
export interface RecordOwner {
  readRecords(request: { map: string; keys: string[] }): Promise<{ key: string; record: LWWRecord }[]>;
}
