import { decodeValue, encodeRows } from "../../core/codec.ts";
import { leafIndexOf, lwwEntryHash } from "../../core/merkle-tree.ts";
import type { SqlPort } from "../storage/sql-port.ts";
import type { LwwHead } from "./lww-heads.ts";

/** Log rows read per statement when the log is replayed. */
const REPLAY_PAGE_ROWS = 64;

/**
 * The LWW write log (table lww_log): one row per map per batch, holding the batch's winning records as one msgpack
 * blob, appended in the write's transaction, so a batch costs one row write instead of one B-tree update per key.
 * A compaction (lww-store.ts) moves the records into lww_record in key order and empties the log.
 */
export class LwwLog {
  readonly #sql: SqlPort;

  constructor(sql: SqlPort) {
    this.#sql = sql;
  }

  /** Appends the winning records of one batch of `map` (call inside the write's transaction). */
  append(map: string, records: readonly { key: string; head: LwwHead }[]): void {
    if (records.length === 0) return;
    // A node id equal to the record before's is stored as null (`recordsOf` carries it forward): a batch's records
    // mostly share it.
    let node: string | undefined;
    const rows = records.map(({ key, head }) => {
      const { nodeId } = head.timestamp;
      const row = [key, head.value, head.timestamp.millis, head.timestamp.counter, nodeId === node ? null : nodeId, head.ttlMs];
      node = nodeId;
      return row;
    });
    this.#sql.exec("INSERT INTO lww_log (map, records) VALUES (?, ?)", map, encodeRows(rows));
  }

  /** Visits every logged record in append order (a later record of a key is newer: merges were decided before). */
  replay(visit: (map: string, key: string, head: LwwHead) => void): void {
    let after = 0;
    for (;;) {
      const rows = this.#sql.exec("SELECT seq, map, records FROM lww_log WHERE seq > ? ORDER BY seq LIMIT ?", after, REPLAY_PAGE_ROWS);
      for (const row of rows) {
        if (!(row.records instanceof Uint8Array)) continue;
        const map = String(row.map);
        for (const record of recordsOf(decodeValue(row.records))) visit(map, record.key, record.head);
      }
      const last = rows.at(-1);
      if (!last || rows.length < REPLAY_PAGE_ROWS) return;
      after = Number(last.seq);
    }
  }

  /** The last row's sequence number (0 when empty). */
  lastSeq(): number {
    return Number(this.#sql.exec("SELECT COALESCE(MAX(seq), 0) AS seq FROM lww_log")[0]?.seq ?? 0);
  }

  /** Deletes the rows up to `seq` (after their records reached lww_record, in the same transaction). */
  deleteUpTo(seq: number): void {
    this.#sql.exec("DELETE FROM lww_log WHERE seq <= ?", seq);
  }
}

/** The records of one log row; entries of any other shape are skipped (the log is written only by `append`). */
function recordsOf(decoded: unknown): { key: string; head: LwwHead }[] {
  if (!Array.isArray(decoded)) return [];
  const out: { key: string; head: LwwHead }[] = [];
  let nodeId: unknown;
  for (const entry of decoded) {
    if (!Array.isArray(entry)) continue;
    const [key, value, millis, counter, rowNode, ttlMs] = entry;
    nodeId = rowNode ?? nodeId;
    if (typeof key !== "string" || typeof millis !== "number" || typeof counter !== "number" || typeof nodeId !== "string") continue;
    const timestamp = { millis, counter, nodeId };
    out.push({
      key,
      head: {
        timestamp,
        hash: lwwEntryHash(key, timestamp),
        leaf: leafIndexOf(key),
        value: value instanceof Uint8Array ? value : null,
        ttlMs: typeof ttlMs === "number" ? ttlMs : null,
      },
    });
  }
  return out;
}
