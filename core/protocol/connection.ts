// Heartbeat, errors and the BATCH envelope. PING, PONG and BATCH are flat; ERROR is wrapped.
import * as z from "./zod.ts";
import { optionalField, wireU32, wireU64 } from "./shared.ts";

export const pingMessageSchema = z.object({ type: z.literal("PING"), timestamp: wireU64 });
export type PingMessage = z.infer<typeof pingMessageSchema>;

export const pongMessageSchema = z.object({ type: z.literal("PONG"), timestamp: wireU64, serverTime: wireU64 });
export type PongMessage = z.infer<typeof pongMessageSchema>;

export const errorMessageSchema = z.object({
  type: z.literal("ERROR"),
  payload: z.object({ code: wireU32, message: z.string(), details: z.optional(z.unknown()) }),
});
export type ErrorMessage = z.infer<typeof errorMessageSchema>;

/**
 * Several messages in one frame. `data` is split by `splitInboundBatch` (batch-frame.ts); `count` is
 * ignored inbound (PROTOCOL.md §1.6), so a sender that leaves it out is accepted.
 */
export const batchMessageSchema = z.object({
  type: z.literal("BATCH"),
  count: optionalField(wireU32),
  data: z.instanceof(Uint8Array, { error: "expected binary data" }),
});
export type BatchMessage = z.infer<typeof batchMessageSchema>;
