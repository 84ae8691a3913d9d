// Entry processors and conflict resolvers (PROTOCOL.md §11.5). All flat.
import * as z from "./zod.ts";
import { MAX_KEYS_PER_REQUEST, MAX_RESOLVER_NAME_LENGTH, MAX_RESOLVER_PRIORITY } from "../limits.ts";
import {
  conflictResolverSchema,
  entryProcessorSchema,
  mapNameSchema,
  optionalField,
  recordKeySchema,
  timestampSchema,
  wireIdSchema,
  wireInteger,
} from "./shared.ts";

// --- entry processors ----------------------------------------------------------------------------------

export const entryProcessMessageSchema = z.object({
  type: z.literal("ENTRY_PROCESS"),
  requestId: wireIdSchema,
  mapName: mapNameSchema,
  key: recordKeySchema,
  processor: entryProcessorSchema,
});
export type EntryProcessMessage = z.infer<typeof entryProcessMessageSchema>;

export const entryProcessBatchMessageSchema = z.object({
  type: z.literal("ENTRY_PROCESS_BATCH"),
  requestId: wireIdSchema,
  mapName: mapNameSchema,
  keys: z.array(recordKeySchema).check(z.maxLength(MAX_KEYS_PER_REQUEST)),
  processor: entryProcessorSchema,
});
export type EntryProcessBatchMessage = z.infer<typeof entryProcessBatchMessageSchema>;

const entryProcessOutcomeShape = {
  success: z.boolean(),
  result: z.optional(z.unknown()),
  newValue: z.optional(z.unknown()),
  error: optionalField(z.string()),
};

export const entryProcessResponseMessageSchema = z.object({
  type: z.literal("ENTRY_PROCESS_RESPONSE"),
  requestId: wireIdSchema,
  ...entryProcessOutcomeShape,
});
export type EntryProcessResponseMessage = z.infer<typeof entryProcessResponseMessageSchema>;

export const entryProcessBatchResponseMessageSchema = z.object({
  type: z.literal("ENTRY_PROCESS_BATCH_RESPONSE"),
  requestId: wireIdSchema,
  results: z.record(z.string(), z.object(entryProcessOutcomeShape)),
});
export type EntryProcessBatchResponseMessage = z.infer<typeof entryProcessBatchResponseMessageSchema>;

// --- conflict resolvers --------------------------------------------------------------------------------

export const resolverNameSchema = z.string().check(z.minLength(1), z.maxLength(MAX_RESOLVER_NAME_LENGTH));

export const registerResolverMessageSchema = z.object({
  type: z.literal("REGISTER_RESOLVER"),
  requestId: wireIdSchema,
  mapName: mapNameSchema,
  resolver: conflictResolverSchema,
});
export type RegisterResolverMessage = z.infer<typeof registerResolverMessageSchema>;

const resolverResponseShape = { requestId: wireIdSchema, success: z.boolean(), error: optionalField(z.string()) };

export const registerResolverResponseMessageSchema = z.object({
  type: z.literal("REGISTER_RESOLVER_RESPONSE"),
  ...resolverResponseShape,
});
export type RegisterResolverResponseMessage = z.infer<typeof registerResolverResponseMessageSchema>;

export const unregisterResolverMessageSchema = z.object({
  type: z.literal("UNREGISTER_RESOLVER"),
  requestId: wireIdSchema,
  mapName: mapNameSchema,
  resolverName: resolverNameSchema,
});
export type UnregisterResolverMessage = z.infer<typeof unregisterResolverMessageSchema>;

export const unregisterResolverResponseMessageSchema = z.object({
  type: z.literal("UNREGISTER_RESOLVER_RESPONSE"),
  ...resolverResponseShape,
});
export type UnregisterResolverResponseMessage = z.infer<typeof unregisterResolverResponseMessageSchema>;

export const listResolversMessageSchema = z.object({
  type: z.literal("LIST_RESOLVERS"),
  requestId: wireIdSchema,
  mapName: optionalField(mapNameSchema),
});
export type ListResolversMessage = z.infer<typeof listResolversMessageSchema>;

export const listResolversResponseMessageSchema = z.object({
  type: z.literal("LIST_RESOLVERS_RESPONSE"),
  requestId: wireIdSchema,
  resolvers: z.array(
    z.object({
      mapName: mapNameSchema,
      name: resolverNameSchema,
      priority: optionalField(wireInteger(0, MAX_RESOLVER_PRIORITY)),
      keyPattern: optionalField(z.string()),
    }),
  ),
});
export type ListResolversResponseMessage = z.infer<typeof listResolversResponseMessageSchema>;

/** A write a resolver turned down. */
export const mergeRejectedMessageSchema = z.object({
  type: z.literal("MERGE_REJECTED"),
  mapName: mapNameSchema,
  key: recordKeySchema,
  attemptedValue: z.unknown(),
  reason: z.string(),
  timestamp: timestampSchema,
});
export type MergeRejectedMessage = z.infer<typeof mergeRejectedMessageSchema>;
