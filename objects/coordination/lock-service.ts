import type { ConnectionSender } from "../delivery/connection-sender.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import type { SqlPort, SqlRow } from "../storage/sql-port.ts";

/** Lock TTLs (PROTOCOL.md §11.2): the default when a request names none, and the range a TTL is clamped to. */
export const LOCK_TTL_DEFAULT_MS = 10_000;
export const LOCK_TTL_MIN_MS = 1_000;
export const LOCK_TTL_MAX_MS = 300_000;

/** The TTL a LOCK_REQUEST gets: its own, clamped, or the default. */
export function lockTtlMs(requested: number | undefined): number {
  if (requested === undefined) return LOCK_TTL_DEFAULT_MS;
  return Math.min(LOCK_TTL_MAX_MS, Math.max(LOCK_TTL_MIN_MS, requested));
}

export interface LockRequest {
  requestId: string;
  name: string;
  ttlMs: number;
  holder: ConnectionRef;
}

/** What a LOCK_REQUEST got at once: the lock, or a place in its queue (LOCK_GRANTED is pushed when its turn comes). */
export type LockOutcome = { granted: true; fencingToken: number } | { granted: false };

interface Grant {
  name: string;
  requestId: string;
  fencingToken: number;
  holder: ConnectionRef;
}

/**
 * Owner role, distributed locks (PROTOCOL.md §11.2, Part A 10). Each lock's holder, expiry and last fencing token
 * live in SQLite (lock_state), its FIFO queue in lock_wait. The token row is kept after release, so fencing tokens
 * only ever increase. Expiry needs no timer: `wakeAt` asks for the Durable Object alarm at the earliest expiry, and
 * `alarm()` passes expired locks on.
 */
export class LockService {
  readonly #sql: SqlPort;
  readonly #sender: ConnectionSender;
  readonly #clock: () => number;
  readonly #wakeAt: (atMs: number) => Promise<void>;

  constructor(deps: { sql: SqlPort; sender: ConnectionSender; clock: () => number; wakeAt: (atMs: number) => Promise<void> }) {
    this.#sql = deps.sql;
    this.#sender = deps.sender;
    this.#clock = deps.clock;
    this.#wakeAt = deps.wakeAt;
  }

  /** LOCK_REQUEST: grants a free or expired lock (next token), extends the caller's own, or queues the request. */
  async request({ requestId, name, ttlMs, holder }: LockRequest): Promise<LockOutcome> {
    const now = this.#clock();
    const grants: Grant[] = [];
    const outcome = this.#sql.transaction((): LockOutcome => {
      this.#expire(name, now, grants);
      const row = this.#row(name);
      const expiresAt = now + ttlMs;
      if (row === undefined || row.conn === null) {
        const fencingToken = Number(row?.token ?? 0) + 1;
        this.#sql.exec(
          `INSERT INTO lock_state (name, token, home, conn, request_id, expires_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET token = excluded.token, home = excluded.home, conn = excluded.conn,
             request_id = excluded.request_id, expires_at = excluded.expires_at`,
          name,
          fencingToken,
          holder.home,
          holder.conn,
          requestId,
          expiresAt,
        );
        return { granted: true, fencingToken };
      }
      if (isHeldBy(row, holder)) {
        this.#sql.exec("UPDATE lock_state SET expires_at = ?, request_id = ? WHERE name = ?", expiresAt, requestId, name);
        return { granted: true, fencingToken: Number(row.token) };
      }
      this.#sql.exec(
        "INSERT INTO lock_wait (name, home, conn, request_id, ttl_ms) VALUES (?, ?, ?, ?, ?)",
        name,
        holder.home,
        holder.conn,
        requestId,
        ttlMs,
      );
      return { granted: false };
    });
    await this.#settle(grants);
    return outcome;
  }

  /** LOCK_RELEASE: succeeds only for the holder with the lock's current token; the next queued request gets the lock. */
  async release({ name, fencingToken, holder }: { name: string; fencingToken: number; holder: ConnectionRef }): Promise<boolean> {
    const now = this.#clock();
    const grants: Grant[] = [];
    const success = this.#sql.transaction(() => {
      this.#expire(name, now, grants);
      const row = this.#row(name);
      if (row === undefined || !isHeldBy(row, holder) || Number(row.token) !== fencingToken) return false;
      this.#passOn(name, now, grants);
      return true;
    });
    await this.#settle(grants);
    return success;
  }

  /** The connection closed: its queued requests are removed and the locks it held pass to their next waiters. */
  async dropConnection(ref: ConnectionRef): Promise<void> {
    const now = this.#clock();
    const grants: Grant[] = [];
    this.#sql.transaction(() => this.#forget(ref, now, grants));
    await this.#settle(grants);
  }

  /** The alarm fired: expired locks pass to their next waiters. Nothing expired is fine (another feature's alarm). */
  async alarm(): Promise<void> {
    const now = this.#clock();
    // Most alarms are other features' (compaction, the sweep) and find no expired lock: that read needs no transaction.
    if (this.#sql.exec("SELECT 1 FROM lock_state WHERE expires_at <= ? LIMIT 1", now).length === 0) return;
    const grants: Grant[] = [];
    this.#sql.transaction(() => {
      for (const row of this.#sql.exec("SELECT name FROM lock_state WHERE expires_at <= ?", now)) {
        this.#passOn(String(row.name), now, grants);
      }
    });
    await this.#settle(grants);
  }

  #expire(name: string, now: number, grants: Grant[]): void {
    const row = this.#row(name);
    if (row !== undefined && row.expires_at !== null && Number(row.expires_at) <= now) this.#passOn(name, now, grants);
  }

  /** Frees the lock, or hands it to the first queued request with the next token. Runs inside a transaction. */
  #passOn(name: string, now: number, grants: Grant[]): void {
    const next = this.#sql.exec("SELECT seq, home, conn, request_id, ttl_ms FROM lock_wait WHERE name = ? ORDER BY seq LIMIT 1", name)[0];
    if (next === undefined) {
      this.#sql.exec("UPDATE lock_state SET home = NULL, conn = NULL, request_id = NULL, expires_at = NULL WHERE name = ?", name);
      return;
    }
    this.#sql.exec("DELETE FROM lock_wait WHERE seq = ?", next.seq ?? null);
    const grant: Grant = {
      name,
      requestId: String(next.request_id),
      fencingToken: Number(this.#row(name)?.token ?? 0) + 1,
      holder: { home: Number(next.home), conn: String(next.conn) },
    };
    this.#sql.exec(
      "UPDATE lock_state SET token = ?, home = ?, conn = ?, request_id = ?, expires_at = ? WHERE name = ?",
      grant.fencingToken,
      grant.holder.home,
      grant.holder.conn,
      grant.requestId,
      now + Number(next.ttl_ms),
      name,
    );
    grants.push(grant);
  }

  #forget({ home, conn }: ConnectionRef, now: number, grants: Grant[]): void {
    this.#sql.exec("DELETE FROM lock_wait WHERE home = ? AND conn = ?", home, conn);
    for (const row of this.#sql.exec("SELECT name FROM lock_state WHERE home = ? AND conn = ?", home, conn)) {
      this.#passOn(String(row.name), now, grants);
    }
  }

  /** Sends LOCK_GRANTED for each grant; a grantee whose home no longer knows it is forgotten, which may grant more. */
  async #settle(grants: Grant[]): Promise<void> {
    while (grants.length > 0) {
      const batch = grants.splice(0);
      const results = await Promise.all(
        batch.map(async ({ holder, ...payload }) => this.#sender.send([holder], [{ type: "LOCK_GRANTED", payload }])),
      );
      const now = this.#clock();
      for (const gone of results.flat()) this.#sql.transaction(() => this.#forget(gone, now, grants));
    }
    const next = this.#sql.exec("SELECT MIN(expires_at) AS at FROM lock_state WHERE expires_at IS NOT NULL")[0]?.at;
    if (next !== undefined && next !== null) await this.#wakeAt(Number(next));
  }

  #row(name: string): SqlRow | undefined {
    return this.#sql.exec("SELECT token, home, conn, expires_at FROM lock_state WHERE name = ?", name)[0];
  }
}

function isHeldBy(row: SqlRow, holder: ConnectionRef): boolean {
  return row.conn !== null && Number(row.home) === holder.home && String(row.conn) === holder.conn;
}
