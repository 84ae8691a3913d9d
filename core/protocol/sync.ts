// Merkle delta sync for LWW maps and OR maps (PROTOCOL.md §8). SYNC_INIT and ORMAP_SYNC_INIT are flat;
// everything else is wrapped in `payload`.
import * as z from "./zod.ts";
import { MAX_KEYS_PER_REQUEST, MAX_MERKLE_PATH_LENGTH } from "../limits.ts";
import {
  lwwRecordSchema,
  mapNameSchema,
  optionalField,
  orMapEntrySchema,
  recordKeySchema,
  timestampSchema,
  wireU32,
  wireU64,
} from "./shared.ts";

/** A Merkle bucket path: a prefix of a key hash in lowercase hex ("" is the root). */
export const merklePathSchema = z
  .string()
  .check(z.maxLength(MAX_MERKLE_PATH_LENGTH), z.regex(/^[0-9a-f]*$/, { error: "expected lowercase hex digits" }));

const bucketHashesSchema = z.record(z.string(), wireU32);
const bucketRequestPayloadSchema = z.object({ mapName: mapNameSchema, path: merklePathSchema });
const rootPayloadSchema = z.object({ mapName: mapNameSchema, rootHash: wireU32, timestamp: timestampSchema });
const bucketsPayloadSchema = z.object({ mapName: mapNameSchema, path: merklePathSchema, buckets: bucketHashesSchema });

// --- LWW map -------------------------------------------------------------------------------------------

export const syncInitMessageSchema = z.object({
  type: z.literal("SYNC_INIT"),
  mapName: mapNameSchema,
  lastSyncTimestamp: optionalField(wireU64),
});
export type SyncInitMessage = z.infer<typeof syncInitMessageSchema>;

export const syncRespRootMessageSchema = z.object({ type: z.literal("SYNC_RESP_ROOT"), payload: rootPayloadSchema });
export type SyncRespRootMessage = z.infer<typeof syncRespRootMessageSchema>;

export const merkleReqBucketMessageSchema = z.object({
  type: z.literal("MERKLE_REQ_BUCKET"),
  payload: bucketRequestPayloadSchema,
});
export type MerkleReqBucketMessage = z.infer<typeof merkleReqBucketMessageSchema>;

export const syncRespBucketsMessageSchema = z.object({
  type: z.literal("SYNC_RESP_BUCKETS"),
  payload: bucketsPayloadSchema,
});
export type SyncRespBucketsMessage = z.infer<typeof syncRespBucketsMessageSchema>;

export const syncRespLeafMessageSchema = z.object({
  type: z.literal("SYNC_RESP_LEAF"),
  payload: z.object({
    mapName: mapNameSchema,
    path: merklePathSchema,
    records: z.array(z.object({ key: recordKeySchema, record: lwwRecordSchema })),
  }),
});
export type SyncRespLeafMessage = z.infer<typeof syncRespLeafMessageSchema>;

export const syncResetRequiredMessageSchema = z.object({
  type: z.literal("SYNC_RESET_REQUIRED"),
  payload: z.object({ mapName: mapNameSchema, reason: z.string() }),
});
export type SyncResetRequiredMessage = z.infer<typeof syncResetRequiredMessageSchema>;

export const gcPruneMessageSchema = z.object({
  type: z.literal("GC_PRUNE"),
  payload: z.object({ olderThan: timestampSchema }),
});
export type GcPruneMessage = z.infer<typeof gcPruneMessageSchema>;

// --- OR map --------------------------------------------------------------------------------------------

/** `rootHash` and `bucketHashes` are required: TopGun cannot decode the message without them. */
export const orMapSyncInitMessageSchema = z.object({
  type: z.literal("ORMAP_SYNC_INIT"),
  mapName: mapNameSchema,
  rootHash: wireU32,
  bucketHashes: bucketHashesSchema,
  lastSyncTimestamp: optionalField(wireU64),
});
export type ORMapSyncInitMessage = z.infer<typeof orMapSyncInitMessageSchema>;

export const orMapSyncRespRootMessageSchema = z.object({
  type: z.literal("ORMAP_SYNC_RESP_ROOT"),
  payload: rootPayloadSchema,
});
export type ORMapSyncRespRootMessage = z.infer<typeof orMapSyncRespRootMessageSchema>;

export const orMapMerkleReqBucketMessageSchema = z.object({
  type: z.literal("ORMAP_MERKLE_REQ_BUCKET"),
  payload: bucketRequestPayloadSchema,
});
export type ORMapMerkleReqBucketMessage = z.infer<typeof orMapMerkleReqBucketMessageSchema>;

export const orMapSyncRespBucketsMessageSchema = z.object({
  type: z.literal("ORMAP_SYNC_RESP_BUCKETS"),
  payload: bucketsPayloadSchema,
});
export type ORMapSyncRespBucketsMessage = z.infer<typeof orMapSyncRespBucketsMessageSchema>;

export const orMapSyncRespLeafMessageSchema = z.object({
  type: z.literal("ORMAP_SYNC_RESP_LEAF"),
  payload: z.object({ mapName: mapNameSchema, path: merklePathSchema, entries: z.array(orMapEntrySchema) }),
});
export type ORMapSyncRespLeafMessage = z.infer<typeof orMapSyncRespLeafMessageSchema>;

export const orMapDiffRequestMessageSchema = z.object({
  type: z.literal("ORMAP_DIFF_REQUEST"),
  payload: z.object({ mapName: mapNameSchema, keys: z.array(recordKeySchema).check(z.maxLength(MAX_KEYS_PER_REQUEST)) }),
});
export type ORMapDiffRequestMessage = z.infer<typeof orMapDiffRequestMessageSchema>;

export const orMapDiffResponseMessageSchema = z.object({
  type: z.literal("ORMAP_DIFF_RESPONSE"),
  payload: z.object({ mapName: mapNameSchema, entries: z.array(orMapEntrySchema) }),
});
export type ORMapDiffResponseMessage = z.infer<typeof orMapDiffResponseMessageSchema>;

/** Sent by the client (TopGun's schema comment says otherwise; PROTOCOL.md §3 row 24). */
export const orMapPushDiffMessageSchema = z.object({
  type: z.literal("ORMAP_PUSH_DIFF"),
  payload: z.object({ mapName: mapNameSchema, entries: z.array(orMapEntrySchema).check(z.maxLength(MAX_KEYS_PER_REQUEST)) }),
});
export type ORMapPushDiffMessage = z.infer<typeof orMapPushDiffMessageSchema>;
