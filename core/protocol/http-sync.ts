// `POST /sync` (PROTOCOL-NEXT.md §6.1): the msgpack request and response of the HTTP sync endpoint.
import * as z from "./zod.ts";
import { MAX_BATCH_OPS, MAX_CURSOR_LENGTH, MAX_QUERY_LIMIT } from "../limits.ts";
import { searchTextSchema } from "./search.ts";
import {
  clientOpSchema,
  mapNameSchema,
  optionalField,
  searchOptionsSchema,
  timestampSchema,
  valueMapSchema,
  wireIdSchema,
  wireInteger,
  type LWWRecord,
  type OpResult,
  type Timestamp,
} from "./shared.ts";

/** Most entries of `queries`, `searches` or `syncMaps` in one request: each is a read at the map's owners. */
export const MAX_HTTP_SYNC_READS = 100;

export const httpSyncRequestSchema = z.object({
  clientId: wireIdSchema,
  clientHlc: timestampSchema,
  operations: optionalField(z.array(clientOpSchema).check(z.maxLength(MAX_BATCH_OPS))),
  syncMaps: optionalField(
    z.array(z.object({ mapName: mapNameSchema, lastSyncTimestamp: timestampSchema })).check(z.maxLength(MAX_HTTP_SYNC_READS)),
  ),
  queries: optionalField(
    z
      .array(
        z.object({
          queryId: wireIdSchema,
          mapName: mapNameSchema,
          filter: optionalField(valueMapSchema),
          limit: optionalField(wireInteger(0, MAX_QUERY_LIMIT)),
          offset: optionalField(wireInteger(0, MAX_QUERY_LIMIT)),
          cursor: optionalField(z.string().check(z.maxLength(MAX_CURSOR_LENGTH))),
        }),
      )
      .check(z.maxLength(MAX_HTTP_SYNC_READS)),
  ),
  searches: optionalField(
    z
      .array(z.object({ searchId: wireIdSchema, mapName: mapNameSchema, query: searchTextSchema, options: optionalField(searchOptionsSchema) }))
      .check(z.maxLength(MAX_HTTP_SYNC_READS)),
  ),
});
export type HttpSyncRequest = z.infer<typeof httpSyncRequestSchema>;

export interface HttpSyncError {
  code: number;
  message: string;
  context?: string;
}

export interface HttpSyncDelta {
  mapName: string;
  records: { key: string; record: LWWRecord; eventType: "PUT" | "REMOVE" }[];
  serverSyncTimestamp: Timestamp;
}

export interface HttpSyncResponse {
  serverHlc: Timestamp;
  ack?: { lastId: string; results?: OpResult[] };
  deltas?: HttpSyncDelta[];
  queryResults?: { queryId: string; results: unknown[]; hasMore?: boolean; nextCursor?: string }[];
  searchResults?: { searchId: string; results: unknown[]; totalCount?: number }[];
  errors?: HttpSyncError[];
}
