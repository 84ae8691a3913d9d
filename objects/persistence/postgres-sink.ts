import { decodeValue } from "../../core/codec.ts";

/** One applied change, as the outbox keeps it (values as the msgpack bytes the edge stores). */
export type ChangeRow =
  | { kind: "lww"; map: string; key: string; value: Uint8Array | null; millis: number; counter: number; node: string; ttlMs?: number }
  | { kind: "or-add"; map: string; key: string; tag: string; value: Uint8Array; millis: number; counter: number; node: string; ttlMs?: number }
  | { kind: "or-remove"; map: string; key: string; tag: string }
  /** The tombstone GC pruned an LWW tombstone with this HLC: its row goes (unless a newer write replaced it). */
  | { kind: "lww-prune"; map: string; key: string; millis: number; counter: number; node: string }
  /** The tombstone GC pruned an OR-Map tag's tombstone: its row goes. */
  | { kind: "or-prune"; map: string; key: string; tag: string };

/** The part of a pg client the sink needs. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** Rows per INSERT: far below Postgres's 65,535 bound parameters. */
const ROWS_PER_STATEMENT = 500;

// A stored row is replaced only by a strictly newer HLC, compared like the edge does (node ids by code unit:
// COLLATE "C"), so a replayed or reordered flush never overwrites newer data.
const NEWER = (table: string) =>
  `(${table}.hlc_millis, ${table}.hlc_counter, ${table}.hlc_node COLLATE "C") <
   (EXCLUDED.hlc_millis, EXCLUDED.hlc_counter, EXCLUDED.hlc_node COLLATE "C")`;

/**
 * Writes a flush of changes to Postgres in one transaction: LWW and OR-Map upserts guarded by the HLC, OR
 * tombstones, removal of tombstoned OR records, and removal of the tombstones the GC pruned. Idempotent: the same rows written twice change nothing.
 */
export async function writeChanges(client: PgQueryable, namespace: string, rows: readonly ChangeRow[]): Promise<void> {
  const lww = newestPerKey(rows.flatMap((row) => (row.kind === "lww" ? [row] : [])), (row) => `${row.map}\u0000${row.key}`);
  const adds = newestPerKey(rows.flatMap((row) => (row.kind === "or-add" ? [row] : [])), (row) => `${row.map}\u0000${row.key}\u0000${row.tag}`);
  const removes = rows.flatMap((row) => (row.kind === "or-remove" ? [row] : []));
  const lwwPrunes = rows.flatMap((row) => (row.kind === "lww-prune" ? [row] : []));
  const orPrunes = rows.flatMap((row) => (row.kind === "or-prune" ? [row] : []));
  await client.query("BEGIN");
  try {
    for (const chunk of chunks(lww)) {
      await insert(
        client,
        "lww_records (namespace, map, key, value, value_msgpack, hlc_millis, hlc_counter, hlc_node, tombstone, ttl_ms)",
        chunk.map((r) => [namespace, r.map, r.key, jsonOf(r.value), r.value, r.millis, r.counter, r.node, r.value === null, r.ttlMs ?? null]),
        `ON CONFLICT (namespace, map, key) DO UPDATE SET value = EXCLUDED.value, value_msgpack = EXCLUDED.value_msgpack,
         hlc_millis = EXCLUDED.hlc_millis, hlc_counter = EXCLUDED.hlc_counter, hlc_node = EXCLUDED.hlc_node,
         tombstone = EXCLUDED.tombstone, ttl_ms = EXCLUDED.ttl_ms, updated_at = now() WHERE ${NEWER("lww_records")}`,
      );
    }
    for (const chunk of chunks(adds)) {
      await insert(
        client,
        "or_records (namespace, map, key, tag, value, value_msgpack, hlc_millis, hlc_counter, hlc_node, ttl_ms)",
        chunk.map((r) => [namespace, r.map, r.key, r.tag, jsonOf(r.value), r.value, r.millis, r.counter, r.node, r.ttlMs ?? null]),
        `ON CONFLICT (namespace, map, key, tag) DO UPDATE SET value = EXCLUDED.value, value_msgpack = EXCLUDED.value_msgpack,
         hlc_millis = EXCLUDED.hlc_millis, hlc_counter = EXCLUDED.hlc_counter, hlc_node = EXCLUDED.hlc_node,
         ttl_ms = EXCLUDED.ttl_ms, updated_at = now() WHERE ${NEWER("or_records")}`,
      );
    }
    for (const chunk of chunks(removes)) {
      await insert(client, "or_tombstones (namespace, map, tag, key)", chunk.map((r) => [namespace, r.map, r.tag, r.key]), "ON CONFLICT DO NOTHING");
    }
    if (adds.length > 0 || removes.length > 0) {
      // Adds may arrive after their tag's removal (another flush, a replay): a tombstone always wins.
      await client.query(
        `DELETE FROM or_records r USING or_tombstones t
         WHERE r.namespace = $1 AND t.namespace = r.namespace AND t.map = r.map AND t.tag = r.tag AND r.tag = ANY($2)`,
        [namespace, [...adds.map((r) => r.tag), ...removes.map((r) => r.tag)]],
      );
    }
    // Pruned tombstones go last: a flush may hold a tombstone and its pruning (Postgres was away for the horizon).
    for (const chunk of chunks(lwwPrunes)) {
      await client.query(
        `DELETE FROM lww_records l USING unnest($2::text[], $3::text[], $4::bigint[], $5::int[], $6::text[]) AS p(map, key, millis, counter, node)
         WHERE l.namespace = $1 AND l.map = p.map AND l.key = p.key AND l.tombstone
           AND (l.hlc_millis, l.hlc_counter, l.hlc_node COLLATE "C") <= (p.millis, p.counter, p.node COLLATE "C")`,
        [namespace, ...columnsOf(chunk, (r) => [r.map, r.key, r.millis, r.counter, r.node])],
      );
    }
    for (const chunk of chunks(orPrunes)) {
      await client.query(
        `DELETE FROM or_tombstones t USING unnest($2::text[], $3::text[]) AS p(map, tag)
         WHERE t.namespace = $1 AND t.map = p.map AND t.tag = p.tag`,
        [namespace, ...columnsOf(chunk, (r) => [r.map, r.tag])],
      );
    }
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined); // The connection may be gone; the error below says why.
    throw err;
  }
}

async function insert(client: PgQueryable, target: string, rows: unknown[][], tail: string): Promise<void> {
  const width = rows[0]?.length ?? 0;
  const tuples = rows.map((_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(", ")})`);
  await client.query(`INSERT INTO ${target} VALUES ${tuples.join(", ")} ${tail}`, rows.flat());
}

/** Rows as one array per column (for unnest). */
function columnsOf<R>(rows: readonly R[], cells: (row: R) => unknown[]): unknown[][] {
  const columns: unknown[][] = [];
  for (const row of rows) cells(row).forEach((cell, i) => (columns[i] ??= []).push(cell));
  return columns;
}

function newestPerKey<R extends { millis: number; counter: number; node: string }>(rows: R[], keyOf: (row: R) => string): R[] {
  const newest = new Map<string, R>();
  for (const row of rows) {
    const current = newest.get(keyOf(row));
    if (!current || isNewer(row, current)) newest.set(keyOf(row), row);
  }
  return [...newest.values()];
}

function isNewer(a: { millis: number; counter: number; node: string }, b: { millis: number; counter: number; node: string }): boolean {
  if (a.millis !== b.millis) return a.millis > b.millis;
  if (a.counter !== b.counter) return a.counter > b.counter;
  return a.node > b.node;
}

function chunks<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) out.push(rows.slice(i, i + ROWS_PER_STATEMENT));
  return out;
}

/** The JSON text of a stored value when JSON(B) holds it exactly, else null (value_msgpack always has it). */
export function jsonOf(encoded: Uint8Array | null): string | null {
  if (encoded === null) return null;
  const value = decodeValue(encoded);
  return isExactJson(value) ? JSON.stringify(value) : null;
}

function isExactJson(value: unknown): boolean {
  if (value === null || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  // JSONB cannot hold U+0000 nor lone surrogates.
  if (typeof value === "string") return !value.includes("\u0000") && value.isWellFormed();
  if (Array.isArray(value)) return value.every(isExactJson);
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.entries(value).every(([key, item]) => !key.includes("\u0000") && key.isWellFormed() && isExactJson(item));
  }
  return false;
}
