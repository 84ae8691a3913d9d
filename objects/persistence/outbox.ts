import type { ChangeRow } from "./postgres-sink.ts";
import { bulkInsert, type SqlPort, type SqlValue } from "../storage/sql-port.ts";

export interface OutboxBatch {
  lastSeq: number;
  rows: ChangeRow[];
}

/**
 * Owner role: changes waiting for Postgres. Appended in the same SQLite transaction as the change itself; deleted
 * only after Postgres committed them (`acknowledge`), so nothing acknowledged to a client is ever lost.
 */
export class Outbox {
  readonly #sql: SqlPort;
  readonly #clock: () => number;

  constructor(sql: SqlPort, clock: () => number = Date.now) {
    this.#sql = sql;
    this.#clock = clock;
  }

  append(rows: readonly ChangeRow[]): void {
    if (rows.length === 0) return;
    const now = this.#clock();
    const cells: SqlValue[][] = rows.map((row) => {
      switch (row.kind) {
        case "or-remove":
        case "or-prune":
          return [row.kind, row.map, row.key, row.tag, null, null, null, null, null, now];
        case "lww-prune":
          return [row.kind, row.map, row.key, null, null, row.millis, row.counter, row.node, null, now];
        default:
          return [row.kind, row.map, row.key, row.kind === "or-add" ? row.tag : null, row.value, row.millis, row.counter, row.node, row.ttlMs ?? null, now];
      }
    });
    bulkInsert(this.#sql, "outbox (kind, map, key, tag, value, millis, counter, node, ttl_ms, queued_at)", cells);
  }

  /** The oldest `limit` changes, in the order they were applied. */
  peek(limit: number): OutboxBatch | undefined {
    const rows = this.#sql.exec("SELECT * FROM outbox ORDER BY seq LIMIT ?", limit);
    const last = rows.at(-1);
    if (!last) return undefined;
    return { lastSeq: Number(last.seq), rows: rows.map(toChange) };
  }

  /** Postgres committed every change up to `lastSeq`. */
  acknowledge(lastSeq: number): void {
    this.#sql.exec("DELETE FROM outbox WHERE seq <= ?", lastSeq);
  }

  /** The sequence number of the newest change queued (0 when none ever was). */
  lastSeq(): number {
    return Number(this.#sql.exec("SELECT COALESCE(MAX(seq), 0) AS seq FROM outbox")[0]?.seq ?? 0);
  }

  /** True when every change up to `seq` has reached Postgres. */
  isAcknowledged(seq: number): boolean {
    return this.#sql.exec("SELECT 1 FROM outbox WHERE seq <= ? LIMIT 1", seq).length === 0;
  }

  /** Changes waiting, and how long the oldest has waited (ms). */
  stats(): { depth: number; lagMs: number } {
    const row = this.#sql.exec("SELECT COUNT(*) AS depth, MIN(queued_at) AS oldest FROM outbox")[0];
    const depth = Number(row?.depth ?? 0);
    return { depth, lagMs: depth > 0 ? this.#clock() - Number(row?.oldest ?? 0) : 0 };
  }
}

function toChange(row: Record<string, SqlValue>): ChangeRow {
  const base = { map: String(row.map), key: String(row.key) };
  if (row.kind === "or-remove" || row.kind === "or-prune") return { kind: row.kind, ...base, tag: String(row.tag) };
  const stamp = { millis: Number(row.millis), counter: Number(row.counter), node: String(row.node) };
  if (row.kind === "lww-prune") return { kind: "lww-prune", ...base, ...stamp };
  const ttl = typeof row.ttl_ms === "number" ? { ttlMs: row.ttl_ms } : {};
  const value = row.value instanceof Uint8Array ? row.value : null;
  if (row.kind === "or-add") return { kind: "or-add", ...base, tag: String(row.tag), value: value ?? new Uint8Array(), ...stamp, ...ttl };
  return { kind: "lww", ...base, value, ...stamp, ...ttl };
}
