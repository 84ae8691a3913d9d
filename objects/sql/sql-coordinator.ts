import { ProtocolError } from "../../core/errors.ts";
import { compareEntries, evaluatePredicate, isValueMap, type QueryEntry } from "../../core/predicate.ts";
import { MAX_QUERY_LIMIT } from "../../core/limits.ts";
import type { PredicateNode, Query } from "../../core/protocol/shared.ts";
import type { SqlQueryRespPayload } from "../../core/protocol/sql.ts";
import { groupEntries, groupRow } from "../../core/query-groups.ts";
import type { QueryReader } from "../queries/query-reader.ts";
import { parseSql } from "./sql-parser.ts";
import { planSelect, SqlUnsupported, type SqlPlan } from "./sql-plan.ts";

/** Most rows one SQL_QUERY_RESP carries; a larger result asks for a LIMIT. */
export const MAX_SQL_ROWS = MAX_QUERY_LIMIT;

const MAX_ERROR_LENGTH = 300;

/** The answer of a server without SQL (PROTOCOL-NEXT.md §7): clients key on `code`. */
export const SQL_DISABLED_ERROR = "SQL is not available on this server";

/**
 * Home role, SQL over one map (PROTOCOL-NEXT.md §7): parses a SELECT, plans it (sql-plan.ts) and runs it on the same
 * query engine as QUERY_SUB (QueryReader: every shard, tombstones left out), never against the object's own tables.
 * `run` takes a plain request and answers SQL_QUERY_RESP's payload, so the WebSocket and the HTTP plane share it.
 */
export class SqlCoordinator {
  readonly #reader: QueryReader;
  readonly #enabled: boolean;

  constructor(deps: { reader: QueryReader; enabled: boolean }) {
    this.#reader = deps.reader;
    this.#enabled = deps.enabled;
  }

  /**
   * `readFilter` is the caller's access check for the statement's map: the records the caller may read (undefined:
   * all of them), or a FORBIDDEN ProtocolError, which is answered as `error` with `code: 'FORBIDDEN'`.
   */
  async run(
    request: { sql: string; queryId: string },
    options: { readFilter?: (map: string) => PredicateNode | undefined } = {},
  ): Promise<SqlQueryRespPayload> {
    const { queryId } = request;
    const failure = (error: string, code: string): SqlQueryRespPayload => ({ queryId, columns: [], rows: [], error: error.slice(0, MAX_ERROR_LENGTH), code });
    if (!this.#enabled) return failure(SQL_DISABLED_ERROR, "FEATURE_DISABLED");
    const parsed = parseSql(request.sql);
    if (!parsed.ok) return failure(`SQL syntax error: ${parsed.message}`, "SYNTAX_ERROR");
    let plan: SqlPlan;
    try {
      plan = planSelect(parsed.ast);
    } catch (err) {
      if (err instanceof SqlUnsupported) return failure(err.message, "UNSUPPORTED");
      throw err;
    }
    try {
      const filter = options.readFilter?.(plan.map);
      if (filter) plan = { ...plan, predicate: plan.predicate ? { op: "and", children: [filter, plan.predicate] } : filter };
    } catch (err) {
      if (err instanceof ProtocolError && err.kind === "FORBIDDEN") return failure(err.safeMessage, "FORBIDDEN");
      throw err;
    }
    const rows = plan.group ? await this.#grouped(plan, plan.group) : await this.#records(plan);
    if (rows === undefined) return failure(`the result has more than ${MAX_SQL_ROWS} rows: add a LIMIT`, "TOO_LARGE");
    const columns = plan.star ? starColumns(rows) : plan.columns.map((c) => c.name);
    return { queryId, columns, rows: rows.map((row) => (plan.star ? starRow(columns, row) : plan.columns.map((c) => cell(c.source, row)))) };
  }

  /** The records of a plain SELECT, after OFFSET and cut at LIMIT; undefined past MAX_SQL_ROWS. */
  async #records(plan: SqlPlan): Promise<QueryEntry[] | undefined> {
    const wanted = plan.limit === undefined ? MAX_SQL_ROWS + 1 : plan.offset + plan.limit;
    const query: Query = { ...(plan.predicate ? { predicate: plan.predicate } : {}), sort: plan.sort, limit: wanted };
    const entries = (await this.#reader.entries(plan.map, query)).slice(plan.offset);
    return plan.limit === undefined && entries.length > MAX_SQL_ROWS ? undefined : entries;
  }

  /** The group rows of a grouped SELECT, filtered by HAVING, sorted, after OFFSET and cut at LIMIT. */
  async #grouped(plan: SqlPlan, group: NonNullable<SqlPlan["group"]>): Promise<QueryEntry[] | undefined> {
    const spec = { groupBy: group.groupBy, aggregations: group.aggregations };
    const query: Query = { ...(plan.predicate ? { predicate: plan.predicate } : {}), groupBy: spec.groupBy, aggregations: spec.aggregations };
    let rows = groupEntries(spec, await this.#reader.groups(plan.map, query));
    // Aggregates over the whole map answer one row even when nothing matched (SQL's COUNT(*) of nothing is 0).
    if (rows.length === 0 && spec.groupBy.length === 0) rows = [{ key: "[]", value: groupRow(spec, { id: "[]", values: [], count: 0, stats: {} }) }];
    const having = group.having;
    if (having) rows = rows.filter((row) => evaluatePredicate(having, row.value));
    rows.sort(compareEntries(plan.sort));
    const cut = rows.slice(plan.offset, plan.limit === undefined ? undefined : plan.offset + plan.limit);
    return cut.length > MAX_SQL_ROWS ? undefined : cut;
  }
}

function cell(source: SqlPlan["columns"][number]["source"], entry: QueryEntry): unknown {
  if (source.kind === "key") return entry.key;
  const value = entry.value;
  return isValueMap(value) && Object.hasOwn(value, source.field) ? (value[source.field] ?? null) : null;
}

/** `SELECT *`: `_key`, then every top-level field of the results, in order of first appearance. */
function starColumns(rows: readonly QueryEntry[]): string[] {
  const fields = new Set<string>();
  for (const { value } of rows) if (isValueMap(value)) for (const field of Object.keys(value)) fields.add(field);
  fields.delete("_key");
  return ["_key", ...fields];
}

function starRow(columns: readonly string[], entry: QueryEntry): unknown[] {
  return columns.map((column) => (column === "_key" ? entry.key : cell({ kind: "field", field: column }, entry)));
}
