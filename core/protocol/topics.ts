// Pub/sub topics (PROTOCOL.md §11.1). All wrapped in `payload`.
import * as z from "./zod.ts";
import { MAX_TOPIC_LENGTH } from "../limits.ts";
import { optionalField, wireIdSchema, wireU64 } from "./shared.ts";

/** A topic name: 1..256 characters from `A-Z a-z 0-9 _ - . : /`. */
export const topicSchema = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(MAX_TOPIC_LENGTH),
    z.regex(/^[A-Za-z0-9_.:/-]+$/, { error: "expected only letters, digits and _ - . : /" }),
  );

export const topicSubMessageSchema = z.object({ type: z.literal("TOPIC_SUB"), payload: z.object({ topic: topicSchema }) });
export type TopicSubMessage = z.infer<typeof topicSubMessageSchema>;

export const topicUnsubMessageSchema = z.object({
  type: z.literal("TOPIC_UNSUB"),
  payload: z.object({ topic: topicSchema }),
});
export type TopicUnsubMessage = z.infer<typeof topicUnsubMessageSchema>;

export const topicPubMessageSchema = z.object({
  type: z.literal("TOPIC_PUB"),
  payload: z.object({ topic: topicSchema, data: z.unknown() }),
});
export type TopicPubMessage = z.infer<typeof topicPubMessageSchema>;

export const topicMessageMessageSchema = z.object({
  type: z.literal("TOPIC_MESSAGE"),
  payload: z.object({
    topic: topicSchema,
    data: z.unknown(),
    publisherId: optionalField(wireIdSchema),
    timestamp: wireU64,
  }),
});
export type TopicMessageMessage = z.infer<typeof topicMessageMessageSchema>;
