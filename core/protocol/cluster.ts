// Node-to-node messages (PROTOCOL.md §3 rows 40-48). No client sends them and the edge never uses them;
// they are parsed only so that a client sending one is recognised and ignored.
import * as z from "./zod.ts";
import { MAX_SEARCH_LIMIT } from "../limits.ts";
import {
  changeTypeSchema,
  mapNameSchema,
  optionalField,
  recordKeySchema,
  searchOptionsSchema,
  sortDirectionSchema,
  wireIdSchema,
  wireInteger,
  wireU64,
} from "./shared.ts";
import { searchTextSchema } from "./search.ts";

const subscriptionPayloadSchema = z.object({ subscriptionId: wireIdSchema });

export const clusterSubRegisterMessageSchema = z.object({
  type: z.literal("CLUSTER_SUB_REGISTER"),
  payload: z.object({
    subscriptionId: wireIdSchema,
    coordinatorNodeId: wireIdSchema,
    mapName: mapNameSchema,
    type: z.enum(["SEARCH", "QUERY"]),
    searchQuery: optionalField(searchTextSchema),
    searchOptions: optionalField(searchOptionsSchema),
    queryPredicate: z.optional(z.unknown()),
    querySort: optionalField(z.record(z.string(), sortDirectionSchema)),
  }),
});
export type ClusterSubRegisterMessage = z.infer<typeof clusterSubRegisterMessageSchema>;

export const clusterSubAckMessageSchema = z.object({
  type: z.literal("CLUSTER_SUB_ACK"),
  payload: z.object({
    subscriptionId: wireIdSchema,
    nodeId: wireIdSchema,
    success: z.boolean(),
    error: optionalField(z.string()),
    initialResults: optionalField(
      z.array(
        z.object({
          key: recordKeySchema,
          value: z.unknown(),
          score: optionalField(z.number()),
          matchedTerms: optionalField(z.array(z.string())),
        }),
      ),
    ),
    totalHits: optionalField(wireU64),
  }),
});
export type ClusterSubAckMessage = z.infer<typeof clusterSubAckMessageSchema>;

export const clusterSubUpdateMessageSchema = z.object({
  type: z.literal("CLUSTER_SUB_UPDATE"),
  payload: z.object({
    subscriptionId: wireIdSchema,
    sourceNodeId: wireIdSchema,
    key: recordKeySchema,
    value: z.unknown(),
    score: optionalField(z.number()),
    matchedTerms: optionalField(z.array(z.string())),
    changeType: changeTypeSchema,
    timestamp: wireU64,
  }),
});
export type ClusterSubUpdateMessage = z.infer<typeof clusterSubUpdateMessageSchema>;

export const clusterSubUnregisterMessageSchema = z.object({
  type: z.literal("CLUSTER_SUB_UNREGISTER"),
  payload: subscriptionPayloadSchema,
});
export type ClusterSubUnregisterMessage = z.infer<typeof clusterSubUnregisterMessageSchema>;

export const clusterSearchReqMessageSchema = z.object({
  type: z.literal("CLUSTER_SEARCH_REQ"),
  payload: z.object({
    requestId: wireIdSchema,
    mapName: mapNameSchema,
    query: searchTextSchema,
    options: z.object({
      limit: wireInteger(1, MAX_SEARCH_LIMIT),
      minScore: optionalField(z.number()),
      boost: optionalField(z.record(z.string(), z.number())),
      includeMatchedTerms: optionalField(z.boolean()),
      afterScore: optionalField(z.number()),
      afterKey: optionalField(recordKeySchema),
    }),
    timeoutMs: optionalField(wireU64),
  }),
});
export type ClusterSearchReqMessage = z.infer<typeof clusterSearchReqMessageSchema>;

export const clusterSearchRespMessageSchema = z.object({
  type: z.literal("CLUSTER_SEARCH_RESP"),
  payload: z.object({
    requestId: wireIdSchema,
    nodeId: wireIdSchema,
    results: z.array(
      z.object({
        key: recordKeySchema,
        value: z.unknown(),
        score: z.number(),
        matchedTerms: optionalField(z.array(z.string())),
      }),
    ),
    totalHits: wireU64,
    executionTimeMs: wireU64,
    error: optionalField(z.string()),
  }),
});
export type ClusterSearchRespMessage = z.infer<typeof clusterSearchRespMessageSchema>;

export const clusterSearchSubscribeMessageSchema = z.object({
  type: z.literal("CLUSTER_SEARCH_SUBSCRIBE"),
  payload: z.object({
    subscriptionId: wireIdSchema,
    mapName: mapNameSchema,
    query: searchTextSchema,
    options: optionalField(searchOptionsSchema),
  }),
});
export type ClusterSearchSubscribeMessage = z.infer<typeof clusterSearchSubscribeMessageSchema>;

export const clusterSearchUnsubscribeMessageSchema = z.object({
  type: z.literal("CLUSTER_SEARCH_UNSUBSCRIBE"),
  payload: subscriptionPayloadSchema,
});
export type ClusterSearchUnsubscribeMessage = z.infer<typeof clusterSearchUnsubscribeMessageSchema>;

export const clusterSearchUpdateMessageSchema = z.object({
  type: z.literal("CLUSTER_SEARCH_UPDATE"),
  payload: z.object({
    subscriptionId: wireIdSchema,
    nodeId: wireIdSchema,
    key: recordKeySchema,
    value: z.unknown(),
    score: z.number(),
    matchedTerms: optionalField(z.array(z.string())),
    changeType: changeTypeSchema,
  }),
});
export type ClusterSearchUpdateMessage = z.infer<typeof clusterSearchUpdateMessageSchema>;
