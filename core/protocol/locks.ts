// Distributed locks (PROTOCOL.md §11.2). All wrapped in `payload`.
import * as z from "./zod.ts";
import { MAX_NAME_LENGTH } from "../limits.ts";
import { optionalField, wireIdSchema, wireU64 } from "./shared.ts";

export const lockNameSchema = z.string().check(z.minLength(1), z.maxLength(MAX_NAME_LENGTH));

export const lockRequestMessageSchema = z.object({
  type: z.literal("LOCK_REQUEST"),
  payload: z.object({ requestId: wireIdSchema, name: lockNameSchema, ttl: optionalField(wireU64) }),
});
export type LockRequestMessage = z.infer<typeof lockRequestMessageSchema>;

export const lockReleaseMessageSchema = z.object({
  type: z.literal("LOCK_RELEASE"),
  payload: z.object({ requestId: optionalField(wireIdSchema), name: lockNameSchema, fencingToken: wireU64 }),
});
export type LockReleaseMessage = z.infer<typeof lockReleaseMessageSchema>;

export const lockGrantedMessageSchema = z.object({
  type: z.literal("LOCK_GRANTED"),
  payload: z.object({ requestId: wireIdSchema, name: lockNameSchema, fencingToken: wireU64 }),
});
export type LockGrantedMessage = z.infer<typeof lockGrantedMessageSchema>;

export const lockReleasedMessageSchema = z.object({
  type: z.literal("LOCK_RELEASED"),
  payload: z.object({ requestId: wireIdSchema, name: lockNameSchema, success: z.boolean() }),
});
export type LockReleasedMessage = z.infer<typeof lockReleasedMessageSchema>;
