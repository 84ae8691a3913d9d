// Writes and their acknowledgements and events (PROTOCOL.md §3 rows 6-9, 25-26).
import * as z from "./zod.ts";
import { MAX_BATCH_OPS } from "../limits.ts";
import {
  clientOpSchema,
  lwwRecordSchema,
  mapNameSchema,
  opResultSchema,
  optionalField,
  orMapRecordSchema,
  recordKeySchema,
  tagSchema,
  wireIdSchema,
  wireU32,
  wireU64,
  writeConcernSchema,
} from "./shared.ts";

export const clientOpMessageSchema = z.object({ type: z.literal("CLIENT_OP"), payload: clientOpSchema });
export type ClientOpMessage = z.infer<typeof clientOpMessageSchema>;

export const opBatchMessageSchema = z.object({
  type: z.literal("OP_BATCH"),
  payload: z.object({
    ops: z.array(clientOpSchema).check(z.maxLength(MAX_BATCH_OPS)),
    writeConcern: optionalField(writeConcernSchema),
    timeout: optionalField(wireU64),
  }),
});
export type OpBatchMessage = z.infer<typeof opBatchMessageSchema>;

export const opAckMessageSchema = z.object({
  type: z.literal("OP_ACK"),
  payload: z.object({
    lastId: wireIdSchema,
    achievedLevel: optionalField(writeConcernSchema),
    results: optionalField(z.array(opResultSchema)),
  }),
});
export type OpAckMessage = z.infer<typeof opAckMessageSchema>;

export const opRejectedMessageSchema = z.object({
  type: z.literal("OP_REJECTED"),
  payload: z.object({ opId: wireIdSchema, reason: z.string(), code: optionalField(wireU32) }),
});
export type OpRejectedMessage = z.infer<typeof opRejectedMessageSchema>;

export const serverEventTypeSchema = z.enum(["PUT", "REMOVE", "OR_ADD", "OR_REMOVE"]);
export type ServerEventType = z.infer<typeof serverEventTypeSchema>;

export const serverEventPayloadSchema = z.object({
  mapName: mapNameSchema,
  eventType: serverEventTypeSchema,
  key: recordKeySchema,
  record: optionalField(lwwRecordSchema),
  orRecord: optionalField(orMapRecordSchema),
  orTag: optionalField(tagSchema),
});
export type ServerEventPayload = z.infer<typeof serverEventPayloadSchema>;

export const serverEventMessageSchema = z.object({ type: z.literal("SERVER_EVENT"), payload: serverEventPayloadSchema });
export type ServerEventMessage = z.infer<typeof serverEventMessageSchema>;

export const serverBatchEventMessageSchema = z.object({
  type: z.literal("SERVER_BATCH_EVENT"),
  payload: z.object({ events: z.array(serverEventPayloadSchema) }),
});
export type ServerBatchEventMessage = z.infer<typeof serverBatchEventMessageSchema>;
