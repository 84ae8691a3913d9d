import { decodeValue, encodeMessage, encodeValue } from "../../core/codec.ts";
import { compareEntries, type QueryEntry } from "../../core/predicate.ts";
import * as z from "../../core/protocol/zod.ts";
import { groupEntries, groupSpecOf, mergeGroups, type GroupPartial } from "../../core/query-groups.ts";
import { projectValue } from "../../core/query-projection.ts";
import { bulkInsert, type SqlPort } from "../storage/sql-port.ts";
import type { StoredQuery } from "./query-answer.ts";

/**
 * Home role, live grouped queries (PROTOCOL-NEXT.md §4.3): each shard's partial aggregates of a subscription are
 * kept in SQLite (query_group); when a shard sends new ones, the merged group rows before and after are diffed into
 * LEAVE (value null), ENTER and UPDATE, in that order. Sort and `limit` apply to the group rows.
 */
export class GroupView {
  readonly #sql: SqlPort;

  constructor(sql: SqlPort) {
    this.#sql = sql;
  }

  /** Keeps every shard's first answer; answers the result rows (sorted, cut at `limit`, projected). */
  seed(conn: string, queryId: string, query: StoredQuery, answers: { partition: number; groups: GroupPartial[] }[]): QueryEntry[] {
    this.forget(conn, queryId);
    for (const { partition, groups } of answers) this.#store(conn, queryId, partition, groups);
    return visibleRows(query, answers.map((a) => a.groups)).map((e) => ({ key: e.key, value: projectValue(e.value, query.fields) }));
  }

  /** One shard's new partials: the QUERY_UPDATE frames of the rows that changed. */
  apply(conn: string, queryId: string, query: StoredQuery, partition: number, groups: GroupPartial[]): Uint8Array[] {
    const byPartition = this.#load(conn, queryId);
    const before = visibleRows(query, [...byPartition.values()]);
    byPartition.set(partition, groups);
    const after = visibleRows(query, [...byPartition.values()]);
    this.#sql.exec("DELETE FROM query_group WHERE conn = ? AND query_id = ? AND partition = ?", conn, queryId, partition);
    this.#store(conn, queryId, partition, groups);
    return diffRows(queryId, query, before, after);
  }

  forget(conn: string, queryId: string): void {
    this.#sql.exec("DELETE FROM query_group WHERE conn = ? AND query_id = ?", conn, queryId);
  }

  forgetConnection(conn: string): void {
    this.#sql.exec("DELETE FROM query_group WHERE conn = ?", conn);
  }

  #store(conn: string, queryId: string, partition: number, groups: GroupPartial[]): void {
    bulkInsert(
      this.#sql,
      "query_group (conn, query_id, partition, group_id, partial)",
      groups.map((g) => [conn, queryId, partition, g.id, encodeValue(g)]),
    );
  }

  #load(conn: string, queryId: string): Map<number, GroupPartial[]> {
    const byPartition = new Map<number, GroupPartial[]>();
    for (const row of this.#sql.exec("SELECT partition, partial FROM query_group WHERE conn = ? AND query_id = ?", conn, queryId)) {
      if (!(row.partial instanceof Uint8Array)) continue;
      const partial = toPartial(decodeValue(row.partial));
      if (!partial) continue; // Written by #store from a partial; a row that no longer decodes holds nothing.
      const partition = Number(row.partition);
      const list = byPartition.get(partition);
      if (list) list.push(partial);
      else byPartition.set(partition, [partial]);
    }
    return byPartition;
  }
}

/** The merged group rows in query order, cut at `limit`. */
function visibleRows(query: StoredQuery, lists: readonly (readonly GroupPartial[])[]): QueryEntry[] {
  const rows = groupEntries(groupSpecOf(query), mergeGroups(lists)).sort(compareEntries(query.sort));
  return query.limit === undefined ? rows : rows.slice(0, query.limit);
}

function diffRows(queryId: string, query: StoredQuery, before: QueryEntry[], after: QueryEntry[]): Uint8Array[] {
  const old = new Map(before.map((e) => [e.key, JSON.stringify(e.value)]));
  const now = new Set(after.map((e) => e.key));
  const frame = (key: string, value: unknown, changeType: "ENTER" | "UPDATE" | "LEAVE") =>
    encodeMessage({ type: "QUERY_UPDATE", payload: { queryId, key, value, changeType } });
  const leaves = before.filter((e) => !now.has(e.key)).map((e) => frame(e.key, null, "LEAVE"));
  const enters = after.filter((e) => !old.has(e.key)).map((e) => frame(e.key, projectValue(e.value, query.fields), "ENTER"));
  const updates = after
    .filter((e) => old.has(e.key) && old.get(e.key) !== JSON.stringify(e.value))
    .map((e) => frame(e.key, projectValue(e.value, query.fields), "UPDATE"));
  return [...leaves, ...enters, ...updates];
}

const fieldStatsSchema = z.object({ n: z.number(), sum: z.number(), min: z.nullable(z.number()), max: z.nullable(z.number()) });

/** A partial as #store writes it. */
const groupPartialSchema = z.object({
  id: z.string(),
  values: z.array(z.unknown()),
  count: z.number(),
  stats: z.record(z.string(), fieldStatsSchema),
});

/** A stored partial read back, or undefined when the row does not hold one. */
function toPartial(value: unknown): GroupPartial | undefined {
  const parsed = groupPartialSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
