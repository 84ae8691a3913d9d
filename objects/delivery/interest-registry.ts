import type { SqlPort } from "../storage/sql-port.ts";

/** Why a connection wants a map's events: it synced the LWW map, synced the OR map, or holds a query on it. */
export type InterestKind = "lww-sync" | "or-sync" | "query";
const KIND_CODE: Record<InterestKind, number> = { "lww-sync": 1, "or-sync": 2, query: 3 };

/** Connections, by home partition, that want events of one map. */
export type Listeners = Map<number, Set<string>>;

/**
 * Owner role: which connections (home partition + connection id) want the events of each map this partition owns.
 * Kept in SQLite so it survives eviction; cached per map because every write batch reads it.
 */
export class InterestRegistry {
  readonly #sql: SqlPort;
  readonly #cache = new Map<string, Listeners>();

  constructor(sql: SqlPort) {
    this.#sql = sql;
  }

  register(map: string, kind: InterestKind, home: number, conn: string): void {
    this.#sql.exec(
      "INSERT INTO interest (map, kind, home, conn) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
      map,
      KIND_CODE[kind],
      home,
      conn,
    );
    this.#cache.clear();
  }

  unregister(map: string, kind: InterestKind, home: number, conn: string): void {
    this.#sql.exec("DELETE FROM interest WHERE map = ? AND kind = ? AND home = ? AND conn = ?", map, KIND_CODE[kind], home, conn);
    this.#cache.clear();
  }

  dropConnection(home: number, conn: string): void {
    this.#sql.exec("DELETE FROM interest WHERE home = ? AND conn = ?", home, conn);
    this.#cache.clear();
  }

  /** The connections that synced `map` (a reshard registers them at the map's new owners). */
  syncListenersOf(map: string): { kind: "lww-sync" | "or-sync"; home: number; conn: string }[] {
    return this.#sql
      .exec("SELECT kind, home, conn FROM interest WHERE map = ? AND kind IN (?, ?)", map, KIND_CODE["lww-sync"], KIND_CODE["or-sync"])
      .map((row) => ({ kind: Number(row.kind) === KIND_CODE["lww-sync"] ? "lww-sync" : "or-sync", home: Number(row.home), conn: String(row.conn) }));
  }

  /** Listeners of `map` for changes of the LWW map (`lww`) or the OR map (`or`); queries hear both. */
  listeners(map: string, tree: "lww" | "or"): Listeners {
    const cacheKey = `${tree}\u0000${map}`;
    let listeners = this.#cache.get(cacheKey);
    if (!listeners) {
      listeners = new Map();
      const syncKind = KIND_CODE[tree === "lww" ? "lww-sync" : "or-sync"];
      for (const row of this.#sql.exec(
        "SELECT DISTINCT home, conn FROM interest WHERE map = ? AND kind IN (?, ?)",
        map,
        syncKind,
        KIND_CODE.query,
      )) {
        const home = Number(row.home);
        const conns = listeners.get(home) ?? new Set<string>();
        conns.add(String(row.conn));
        listeners.set(home, conns);
      }
      this.#cache.set(cacheKey, listeners);
    }
    return listeners;
  }
}
