// SQL over one map (PROTOCOL-NEXT.md §7). Both wrapped in `payload`, correlated by `queryId`.
import * as z from "./zod.ts";
import { MAX_SQL_LENGTH } from "../limits.ts";
import { optionalField, wireIdSchema } from "./shared.ts";

export const sqlQueryMessageSchema = z.object({
  type: z.literal("SQL_QUERY"),
  payload: z.object({ sql: z.string().check(z.maxLength(MAX_SQL_LENGTH)), queryId: wireIdSchema }),
});
export type SqlQueryMessage = z.infer<typeof sqlQueryMessageSchema>;

/** The answer of a SQL_QUERY: `columns` in select-list order and one array per row, or `error` (and `code`). */
export const sqlQueryRespPayloadSchema = z.object({
  queryId: wireIdSchema,
  columns: z.array(z.string()),
  rows: z.array(z.array(z.unknown())),
  error: optionalField(z.string()),
  code: optionalField(z.string()),
});
export type SqlQueryRespPayload = z.infer<typeof sqlQueryRespPayloadSchema>;

export const sqlQueryRespMessageSchema = z.object({ type: z.literal("SQL_QUERY_RESP"), payload: sqlQueryRespPayloadSchema });
export type SqlQueryRespMessage = z.infer<typeof sqlQueryRespMessageSchema>;
