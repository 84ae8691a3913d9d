// The event journal (PROTOCOL.md §11.6). All flat except JOURNAL_EVENT, which uses the key `event`.
import * as z from "./zod.ts";
import { MAX_ID_LENGTH, MAX_JOURNAL_READ_LIMIT } from "../limits.ts";
import {
  journalEventDataSchema,
  journalEventTypeSchema,
  mapNameSchema,
  optionalField,
  wireIdSchema,
  wireInteger,
} from "./shared.ts";

export const sequenceSchema = z.string().check(z.maxLength(MAX_ID_LENGTH));

export const journalSubscribeMessageSchema = z.object({
  type: z.literal("JOURNAL_SUBSCRIBE"),
  requestId: wireIdSchema,
  fromSequence: optionalField(sequenceSchema),
  mapName: optionalField(mapNameSchema),
  types: optionalField(z.array(journalEventTypeSchema).check(z.maxLength(journalEventTypeSchema.options.length))),
});
export type JournalSubscribeMessage = z.infer<typeof journalSubscribeMessageSchema>;

export const journalUnsubscribeMessageSchema = z.object({
  type: z.literal("JOURNAL_UNSUBSCRIBE"),
  subscriptionId: wireIdSchema,
});
export type JournalUnsubscribeMessage = z.infer<typeof journalUnsubscribeMessageSchema>;

/** TS nests the event once, Rust twice (`event.event`); both read as the event itself. */
export const journalEventMessageSchema = z.object({
  type: z.literal("JOURNAL_EVENT"),
  event: z.union([
    journalEventDataSchema,
    z.pipe(
      z.object({ event: journalEventDataSchema }),
      z.transform((outer) => outer.event),
    ),
  ]),
});
export type JournalEventMessage = z.infer<typeof journalEventMessageSchema>;

export const journalReadMessageSchema = z.object({
  type: z.literal("JOURNAL_READ"),
  requestId: wireIdSchema,
  fromSequence: sequenceSchema,
  limit: optionalField(wireInteger(0, MAX_JOURNAL_READ_LIMIT)),
  mapName: optionalField(mapNameSchema),
});
export type JournalReadMessage = z.infer<typeof journalReadMessageSchema>;

export const journalReadResponseMessageSchema = z.object({
  type: z.literal("JOURNAL_READ_RESPONSE"),
  requestId: wireIdSchema,
  events: z.array(journalEventDataSchema),
  hasMore: z.boolean(),
});
export type JournalReadResponseMessage = z.infer<typeof journalReadResponseMessageSchema>;
