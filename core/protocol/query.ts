// Live queries (PROTOCOL.md §10). All wrapped in `payload`.
import * as z from "./zod.ts";
import { MAX_QUERY_FIELDS } from "../limits.ts";
import {
  changeTypeSchema,
  fieldNameSchema,
  mapNameSchema,
  optionalField,
  querySchema,
  recordKeySchema,
  wireIdSchema,
} from "./shared.ts";

export const querySubMessageSchema = z.object({
  type: z.literal("QUERY_SUB"),
  payload: z.object({
    queryId: wireIdSchema,
    mapName: mapNameSchema,
    query: querySchema,
    /** Projection (PROTOCOL-NEXT.md §4.2): each result value keeps only these top-level fields. */
    fields: optionalField(z.array(fieldNameSchema).check(z.maxLength(MAX_QUERY_FIELDS))),
  }),
});
export type QuerySubMessage = z.infer<typeof querySubMessageSchema>;

export const queryUnsubMessageSchema = z.object({
  type: z.literal("QUERY_UNSUB"),
  payload: z.object({ queryId: wireIdSchema }),
});
export type QueryUnsubMessage = z.infer<typeof queryUnsubMessageSchema>;

/** The retired per-query Merkle path (PROTOCOL-NEXT.md §4.2): accepted, never answered. */
export const querySyncInitMessageSchema = z.object({
  type: z.literal("QUERY_SYNC_INIT"),
  payload: z.object({ queryId: wireIdSchema, rootHash: z.number() }),
});
export type QuerySyncInitMessage = z.infer<typeof querySyncInitMessageSchema>;

export const cursorStatusSchema = z.enum(["valid", "expired", "invalid", "none"]);

export const queryRespMessageSchema = z.object({
  type: z.literal("QUERY_RESP"),
  payload: z.object({
    queryId: wireIdSchema,
    results: z.array(z.object({ key: recordKeySchema, value: z.unknown() })),
    nextCursor: optionalField(z.string()),
    hasMore: optionalField(z.boolean()),
    cursorStatus: optionalField(cursorStatusSchema),
    /** Declared by TopGun main for the retired per-query Merkle path; the edge never sends it. */
    merkleRootHash: optionalField(z.number()),
  }),
});
export type QueryRespMessage = z.infer<typeof queryRespMessageSchema>;

export const queryUpdateMessageSchema = z.object({
  type: z.literal("QUERY_UPDATE"),
  payload: z.object({ queryId: wireIdSchema, key: recordKeySchema, value: z.unknown(), changeType: changeTypeSchema }),
});
export type QueryUpdateMessage = z.infer<typeof queryUpdateMessageSchema>;
