// Full-text search (PROTOCOL.md §11.4). All wrapped in `payload`.
import * as z from "./zod.ts";
import { MAX_SEARCH_QUERY_LENGTH } from "../limits.ts";
import {
  changeTypeSchema,
  mapNameSchema,
  optionalField,
  recordKeySchema,
  searchOptionsSchema,
  wireIdSchema,
  wireU32,
} from "./shared.ts";

export const searchTextSchema = z.string().check(z.maxLength(MAX_SEARCH_QUERY_LENGTH));

export const searchMessageSchema = z.object({
  type: z.literal("SEARCH"),
  payload: z.object({
    requestId: wireIdSchema,
    mapName: mapNameSchema,
    query: searchTextSchema,
    options: optionalField(searchOptionsSchema),
  }),
});
export type SearchMessage = z.infer<typeof searchMessageSchema>;

export const searchRespMessageSchema = z.object({
  type: z.literal("SEARCH_RESP"),
  payload: z.object({
    requestId: wireIdSchema,
    results: z.array(
      z.object({ key: recordKeySchema, value: z.unknown(), score: z.number(), matchedTerms: z.array(z.string()) }),
    ),
    totalCount: wireU32,
    error: optionalField(z.string()),
  }),
});
export type SearchRespMessage = z.infer<typeof searchRespMessageSchema>;

export const searchSubMessageSchema = z.object({
  type: z.literal("SEARCH_SUB"),
  payload: z.object({
    subscriptionId: wireIdSchema,
    mapName: mapNameSchema,
    query: searchTextSchema,
    options: optionalField(searchOptionsSchema),
  }),
});
export type SearchSubMessage = z.infer<typeof searchSubMessageSchema>;

export const searchUpdateMessageSchema = z.object({
  type: z.literal("SEARCH_UPDATE"),
  payload: z.object({
    subscriptionId: wireIdSchema,
    key: recordKeySchema,
    value: z.unknown(),
    score: z.number(),
    matchedTerms: z.array(z.string()),
    changeType: changeTypeSchema,
  }),
});
export type SearchUpdateMessage = z.infer<typeof searchUpdateMessageSchema>;

export const searchUnsubMessageSchema = z.object({
  type: z.literal("SEARCH_UNSUB"),
  payload: z.object({ subscriptionId: wireIdSchema }),
});
export type SearchUnsubMessage = z.infer<typeof searchUnsubMessageSchema>;
