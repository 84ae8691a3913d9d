import { toHex } from "./hex.ts";

/** A value SQLite can bind or return. Blobs come back as Uint8Array whatever the backend. */
export type SqlValue = string | number | null | Uint8Array;
export type SqlRow = Record<string, SqlValue>;

/**
 * The narrow storage port every service gets: run one statement, run a function in one transaction.
 * Implemented by Durable Object SQLite (`do-sql-port.ts`) and, in Node tests, by node:sqlite.
 */
export interface SqlPort {
  exec(query: string, ...bindings: SqlValue[]): SqlRow[];
  transaction<T>(fn: () => T): T;
}

/** Bound parameters per statement allowed by Durable Object SQLite (measured: 100 works, 101 fails). */
export const MAX_SQL_PARAMS = 100;

/**
 * Runs `INSERT ... VALUES (...),(...) <tail>` for `rows`, as few statements as the parameter limit allows.
 * `head` is the statement up to VALUES, `tail` what follows the rows (e.g. an ON CONFLICT clause).
 */
export function insertRows(sql: SqlPort, head: string, rows: readonly SqlValue[][], tail = ""): void {
  const first = rows[0];
  if (first === undefined) return;
  const width = first.length;
  const perStatement = Math.max(1, Math.floor(MAX_SQL_PARAMS / width));
  const tuple = `(${new Array(width).fill("?").join(",")})`;
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    sql.exec(`${head} VALUES ${new Array(chunk.length).fill(tuple).join(",")} ${tail}`, ...chunk.flat());
  }
}

/** Largest JSON text bound to one bulk statement (Durable Object SQLite caps strings and rows at 2 MB). */
const MAX_BULK_JSON_CHARS = 512 * 1024;

/**
 * Inserts `rows` into `target` ("table (col, ...)") with one statement per ~512 KB of rows, whatever their
 * number: the rows travel as one JSON parameter read back with json_each, because each statement costs far more
 * than each row (measured under wrangler dev: ~150 µs a statement) and DO SQLite binds at most 100 parameters.
 * Uint8Array cells travel as hex and come back as blobs. A row too large for JSON goes alone through VALUES.
 */
export function bulkInsert(sql: SqlPort, target: string, rows: readonly SqlValue[][], tail = ""): void {
  const first = rows[0];
  if (first === undefined) return;
  const blobColumns = new Set<number>();
  for (const row of rows) row.forEach((cell, i) => cell instanceof Uint8Array && blobColumns.add(i));
  const select = first
    .map((_, i) => (blobColumns.has(i) ? `unhex(j.value->>${i})` : `j.value->>${i}`))
    .join(", ");
  const statement = `INSERT INTO ${target} SELECT ${select} FROM json_each(?) AS j WHERE true ${tail}`;
  let chunk: string[] = [];
  let chars = 0;
  const flush = () => {
    if (chunk.length > 0) sql.exec(statement, `[${chunk.join(",")}]`);
    chunk = [];
    chars = 0;
  };
  for (const row of rows) {
    const json = JSON.stringify(row.map((cell) => (cell instanceof Uint8Array ? toHex(cell) : cell)));
    if (json.length > MAX_BULK_JSON_CHARS) {
      insertRows(sql, `INSERT INTO ${target}`, [row], tail);
      continue;
    }
    if (chars + json.length > MAX_BULK_JSON_CHARS) flush();
    chunk.push(json);
    chars += json.length + 1;
  }
  flush();
}

/** The `IN (...)` operand that lists `values` through one JSON parameter (see bulkInsert). */
export const JSON_LIST = "(SELECT value FROM json_each(?))";
