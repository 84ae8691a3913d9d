import type { QueryEntry } from "../../core/predicate.ts";
import * as z from "../../core/protocol/zod.ts";
import type { GroupPartial } from "../../core/query-groups.ts";
import { fieldNameSchema, querySchema } from "../../core/protocol/shared.ts";
import { MAX_QUERY_FIELDS } from "../../core/limits.ts";

/** An owner's answer to a query: its matching records in order, or its partial aggregates of a grouped query. */
export type QueryAnswer = { kind: "entries"; entries: QueryEntry[] } | { kind: "groups"; groups: GroupPartial[] };

/** A subscription's query as the owner and the home keep it: the query and its projection. */
export const storedQuerySchema = z.extend(querySchema, {
  fields: z.optional(z.array(fieldNameSchema).check(z.maxLength(MAX_QUERY_FIELDS))),
});
export type StoredQuery = z.infer<typeof storedQuerySchema>;

/** How a subscription's results are kept up to date. */
export type QueryMode = "plain" | "window" | "groups";

/** Grouped queries and limited (top-N) queries are kept at the home; the others at the owner alone. */
export function queryModeOf(query: Pick<StoredQuery, "groupBy" | "aggregations" | "limit">): QueryMode {
  if (query.groupBy !== undefined || query.aggregations !== undefined) return "groups";
  return query.limit === undefined ? "plain" : "window";
}
