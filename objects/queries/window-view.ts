import { encodeMessage } from "../../core/codec.ts";
import { comparePositions, sortPositionOf, type QueryEntry, type SortPosition } from "../../core/predicate.ts";
import { decodeCursor } from "../../core/query-cursor.ts";
import { projectValue } from "../../core/query-projection.ts";
import { bulkInsert, type SqlPort } from "../storage/sql-port.ts";
import type { StoredQuery } from "./query-answer.ts";

/** The best `limit` matching records of a query over every shard (the owners' current state). */
export type ReadWindow = () => Promise<QueryEntry[]>;

/**
 * Home role, live top-N windows (PROTOCOL-NEXT.md §4.5): the keys of a limited subscription's window and their sort
 * positions are kept in SQLite (query_window). Invariant: a window short of `limit` holds every matching record, and
 * every matching record outside a full window sorts after its last row. A written row that sorts inside a full window
 * displaces the last; one outside it sends nothing. When a row leaves a full window, or sorts past its last row, a
 * record outside may now belong: the window is read again from the owners (`readWindow`), which refills the slot.
 * Frames go out as LEAVE (value null), then ENTER, then UPDATE of written keys in the window before and after.
 */
export class WindowView {
  readonly #sql: SqlPort;

  constructor(sql: SqlPort) {
    this.#sql = sql;
  }

  /** The first `limit` results in order: the window the subscription starts with. */
  seed(conn: string, queryId: string, query: StoredQuery, entries: readonly QueryEntry[]): void {
    this.forget(conn, queryId);
    this.#store(conn, queryId, entries.map((e) => sortPositionOf(query.sort, e)));
  }

  /** One owner's written keys (value null: no longer matching): the QUERY_UPDATE frames of the window's changes. */
  async apply(
    target: { conn: string; queryId: string; query: StoredQuery },
    changes: readonly { key: string; value: unknown }[],
    readWindow: ReadWindow,
  ): Promise<Uint8Array[]> {
    const { conn, queryId, query } = target;
    const limit = query.limit ?? Number.POSITIVE_INFINITY;
    const sort = query.sort;
    const after = query.cursor === undefined ? undefined : decodeCursor(sort, query.cursor);
    const window = this.#load(conn, queryId);
    const before = new Set(window.keys());
    const values = new Map<string, unknown>();
    const last = (except?: string): SortPosition | undefined => {
      let worst: SortPosition | undefined;
      for (const [key, position] of window) {
        if (key !== except && (worst === undefined || comparePositions(sort, position, worst) > 0)) worst = position;
      }
      return worst;
    };
    let reread = false;
    for (const { key, value } of changes) {
      const position = value === null ? undefined : sortPositionOf(sort, { key, value });
      const inPage = position !== undefined && (after === undefined || comparePositions(sort, position, after) > 0);
      const full = window.size >= limit;
      if (!inPage) {
        // A row leaving a full window frees a slot that a record outside it may fill.
        if (window.delete(key) && full) reread = true;
        continue;
      }
      values.set(key, value);
      if (window.has(key)) {
        const others = last(key);
        window.set(key, position);
        if (full && others !== undefined && comparePositions(sort, position, others) > 0) reread = true;
        continue;
      }
      if (!full) {
        window.set(key, position);
        continue;
      }
      const worst = last();
      if (worst !== undefined && comparePositions(sort, position, worst) < 0) {
        window.delete(worst.key);
        window.set(key, position);
      }
    }
    const written = new Set(changes.map((c) => c.key));
    let ordered: QueryEntry[];
    if (reread) {
      ordered = await readWindow();
      window.clear();
      for (const entry of ordered) {
        window.set(entry.key, sortPositionOf(sort, entry));
        values.set(entry.key, entry.value);
      }
    } else {
      ordered = [...window].sort(([, a], [, b]) => comparePositions(sort, a, b)).map(([key]) => ({ key, value: values.get(key) }));
    }
    this.forget(conn, queryId);
    this.#store(conn, queryId, [...window.values()]);
    const frame = (key: string, value: unknown, changeType: "ENTER" | "UPDATE" | "LEAVE") =>
      encodeMessage({ type: "QUERY_UPDATE", payload: { queryId, key, value, changeType } });
    const leaves = [...before].filter((key) => !window.has(key)).map((key) => frame(key, null, "LEAVE"));
    const enters = ordered.filter((e) => !before.has(e.key)).map((e) => frame(e.key, projectValue(e.value, query.fields), "ENTER"));
    const updates = ordered
      .filter((e) => before.has(e.key) && written.has(e.key) && values.has(e.key))
      .map((e) => frame(e.key, projectValue(values.get(e.key), query.fields), "UPDATE"));
    return [...leaves, ...enters, ...updates];
  }

  forget(conn: string, queryId: string): void {
    this.#sql.exec("DELETE FROM query_window WHERE conn = ? AND query_id = ?", conn, queryId);
  }

  forgetConnection(conn: string): void {
    this.#sql.exec("DELETE FROM query_window WHERE conn = ?", conn);
  }

  #store(conn: string, queryId: string, positions: readonly SortPosition[]): void {
    bulkInsert(
      this.#sql,
      "query_window (conn, query_id, key, position)",
      positions.map((p) => [conn, queryId, p.key, JSON.stringify(p.values)]),
    );
  }

  #load(conn: string, queryId: string): Map<string, SortPosition> {
    const window = new Map<string, SortPosition>();
    for (const row of this.#sql.exec("SELECT key, position FROM query_window WHERE conn = ? AND query_id = ?", conn, queryId)) {
      const key = String(row.key);
      window.set(key, { key, values: parseSortValues(String(row.position)) });
    }
    return window;
  }
}

/** Sort values as #store wrote them (JSON of numbers, strings, booleans and nulls); anything else reads as missing. */
function parseSortValues(json: string): SortPosition["values"] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return []; // Written by #store as JSON; an unreadable row sorts as if every field were missing.
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.map((v: unknown) => (typeof v === "number" || typeof v === "string" || typeof v === "boolean" ? v : null));
}
