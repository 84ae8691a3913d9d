import { bulkInsert, type SqlPort } from "../storage/sql-port.ts";

/** One plain subscription's hold on one key: a row of query_match. */
export interface QueryMatch {
  home: number;
  conn: string;
  queryId: string;
  key: string;
}

/** Largest JSON text bound to one statement (Durable Object SQLite caps strings at 2 MB; as bulkInsert). */
const MAX_JSON_CHARS = 512 * 1024;

const HELD = `SELECT m.home, m.conn, m.query_id, m.key FROM json_each(?) AS j JOIN query_match AS m
  ON m.home = j.value->>0 AND m.conn = j.value->>1 AND m.query_id = j.value->>2 AND m.key = j.value->>3`;
const RELEASE = `DELETE FROM query_match WHERE (home, conn, query_id, key) IN
  (SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>3 FROM json_each(?) AS j)`;

/**
 * Owner role: which written keys each plain subscription held before a batch (query_match), read and updated for all
 * the batch's subscriptions at once. A statement per subscription cost ~70 µs each, so 100 live queries on a map
 * added ~10 ms to every write before its QUERY_UPDATEs could leave; the tuples now travel as one JSON parameter
 * (split every 512 KB), each looked up by the primary key.
 */
export class QueryMatches {
  readonly #sql: SqlPort;

  constructor(sql: SqlPort) {
    this.#sql = sql;
  }

  /** The ids (`matchId`) of the (subscription, key) pairs that are held now, among every subscription × key. */
  held(subscriptions: readonly Omit<QueryMatch, "key">[], keys: readonly string[]): Set<string> {
    const held = new Set<string>();
    const tuples = subscriptions.flatMap(({ home, conn, queryId }) => keys.map((key) => [home, conn, queryId, key]));
    for (const json of jsonChunks(tuples)) {
      for (const row of this.#sql.exec(HELD, json)) {
        held.add(matchId({ home: Number(row.home), conn: String(row.conn), queryId: String(row.query_id), key: String(row.key) }));
      }
    }
    return held;
  }

  /** Stores the pairs that entered and removes the ones that left: one statement each per 512 KB. */
  update(entered: readonly QueryMatch[], left: readonly QueryMatch[]): void {
    bulkInsert(this.#sql, "query_match (home, conn, query_id, key)", entered.map(({ home, conn, queryId, key }) => [home, conn, queryId, key]));
    for (const json of jsonChunks(left.map(({ home, conn, queryId, key }) => [home, conn, queryId, key]))) this.#sql.exec(RELEASE, json);
  }
}

/** An unambiguous id of a (subscription, key) pair (connection and query ids and keys may hold any character). */
export function matchId({ home, conn, queryId, key }: QueryMatch): string {
  return JSON.stringify([home, conn, queryId, key]);
}

function jsonChunks(tuples: readonly (string | number)[][]): string[] {
  const chunks: string[] = [];
  let chunk: string[] = [];
  let chars = 0;
  for (const tuple of tuples) {
    const json = JSON.stringify(tuple);
    if (chunk.length > 0 && chars + json.length > MAX_JSON_CHARS) {
      chunks.push(`[${chunk.join(",")}]`);
      chunk = [];
      chars = 0;
    }
    chunk.push(json);
    chars += json.length + 1;
  }
  if (chunk.length > 0) chunks.push(`[${chunk.join(",")}]`);
  return chunks;
}
