import type { SqlPort } from "../storage/sql-port.ts";

/** Reports maps to the namespace's directory (the control object); rejects when it could not. */
export type ReportMaps = (maps: string[]) => Promise<void>;

/**
 * The maps an owner holds, so the namespace's directory of maps (`GET /api/admin/maps`) learns each one once: a
 * write's maps are checked against an in-memory set (no SQL, no call on the hot path), a new map is remembered in
 * SQLite (`known_map`) and reported in the background; one not yet reported (the report failed, or the object
 * stopped first) is reported again on a later write.
 */
export class KnownMaps {
  readonly #sql: SqlPort;
  readonly #report: ReportMaps | undefined;
  #known: Set<string> | undefined;
  #unreported = true;
  #reporting: Promise<void> | undefined;

  constructor(deps: { sql: SqlPort; report?: ReportMaps }) {
    this.#sql = deps.sql;
    this.#report = deps.report;
  }

  /** Notes the maps a committed write touched. */
  noteWritten(maps: Iterable<string>): void {
    const known = this.#load();
    const fresh = [...new Set(maps)].filter((map) => !known.has(map));
    for (const map of fresh) {
      known.add(map);
      this.#sql.exec("INSERT INTO known_map (map, reported) VALUES (?, 0) ON CONFLICT DO NOTHING", map);
    }
    if (fresh.length > 0) this.#unreported = true;
    if (this.#unreported) this.#reporting ??= this.#reportPending().finally(() => (this.#reporting = undefined));
  }

  /** Resolves when the report in flight (if any) has settled: for tests. */
  async settled(): Promise<void> {
    await this.#reporting;
  }

  #load(): Set<string> {
    this.#known ??= new Set(this.#sql.exec("SELECT map FROM known_map").map((row) => String(row.map)));
    return this.#known;
  }

  async #reportPending(): Promise<void> {
    if (!this.#report) return;
    const pending = this.#sql.exec("SELECT map FROM known_map WHERE reported = 0").map((row) => String(row.map));
    this.#unreported = false;
    if (pending.length === 0) return;
    try {
      await this.#report(pending);
      for (const map of pending) this.#sql.exec("UPDATE known_map SET reported = 1 WHERE map = ?", map);
    } catch (err) {
      this.#unreported = true;
      console.error("[owner] reporting maps to the directory failed; retried on a later write", err);
    }
  }
}
