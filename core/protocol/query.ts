// Live queries (PROTOCOL.md §10). All wrapped in `payload`.
import { z } from "zod";
import {
  changeTypeSchema,
  mapNameSchema,
  optionalField,
  querySchema,
  recordKeySchema,
  wireIdSchema,
} from "./shared.ts";

export const querySubMessageSchema = z.object({
  type: z.literal("QUERY_SUB"),
  payload: z.object({ queryId: wireIdSchema, mapName: mapNameSchema, query: querySchema }),
});
export type QuerySubMessage = z.infer<typeof querySubMessageSchema>;

export const queryUnsubMessageSchema = z.object({
  type: z.literal("QUERY_UNSUB"),
  payload: z.object({ queryId: wireIdSchema }),
});
export type QueryUnsubMessage = z.infer<typeof queryUnsubMessageSchema>;

export const cursorStatusSchema = z.enum(["valid", "expired", "invalid", "none"]);

export const queryRespMessageSchema = z.object({
  type: z.literal("QUERY_RESP"),
  payload: z.object({
    queryId: wireIdSchema,
    results: z.array(z.object({ key: recordKeySchema, value: z.unknown() })),
    nextCursor: optionalField(z.string()),
    hasMore: optionalField(z.boolean()),
    cursorStatus: optionalField(cursorStatusSchema),
  }),
});
export type QueryRespMessage = z.infer<typeof queryRespMessageSchema>;

export const queryUpdateMessageSchema = z.object({
  type: z.literal("QUERY_UPDATE"),
  payload: z.object({ queryId: wireIdSchema, key: recordKeySchema, value: z.unknown(), changeType: changeTypeSchema }),
});
export type QueryUpdateMessage = z.infer<typeof queryUpdateMessageSchema>;
