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

/** Runs `select` once per chunk of `keys` (as many `?` as fit beside `fixed` parameters) and concatenates rows. */
export function selectIn(
  sql: SqlPort,
  select: (placeholders: string) => string,
  fixed: readonly SqlValue[],
  keys: readonly SqlValue[],
): SqlRow[] {
  const perStatement = MAX_SQL_PARAMS - fixed.length;
  const rows: SqlRow[] = [];
  for (let start = 0; start < keys.length; start += perStatement) {
    const chunk = keys.slice(start, start + perStatement);
    rows.push(...sql.exec(select(new Array(chunk.length).fill("?").join(",")), ...fixed, ...chunk));
  }
  return rows;
}
