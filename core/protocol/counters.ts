// PN counters (PROTOCOL.md §11.3). All wrapped in `payload`.
import * as z from "./zod.ts";
import { MAX_NAME_LENGTH } from "../limits.ts";
import { pnCounterStateSchema, type PNCounterState } from "./shared.ts";

export const counterNameSchema = z.string().check(z.minLength(1), z.maxLength(MAX_NAME_LENGTH));

export const counterRequestMessageSchema = z.object({
  type: z.literal("COUNTER_REQUEST"),
  payload: z.object({ name: counterNameSchema }),
});
export type CounterRequestMessage = z.infer<typeof counterRequestMessageSchema>;

const counterStatePayloadSchema = z.object({ name: counterNameSchema, state: pnCounterStateSchema });

export const counterSyncMessageSchema = z.object({ type: z.literal("COUNTER_SYNC"), payload: counterStatePayloadSchema });
export type CounterSyncMessage = z.infer<typeof counterSyncMessageSchema>;

export const counterResponseMessageSchema = z.object({
  type: z.literal("COUNTER_RESPONSE"),
  payload: counterStatePayloadSchema,
});
export type CounterResponseMessage = z.infer<typeof counterResponseMessageSchema>;

export const counterUpdateMessageSchema = z.object({
  type: z.literal("COUNTER_UPDATE"),
  payload: counterStatePayloadSchema,
});
export type CounterUpdateMessage = z.infer<typeof counterUpdateMessageSchema>;

/** The state as sent: both spellings, so both client generations can read it (Part A 9). */
export type WireCounterState = PNCounterState & { positive: PNCounterState["p"]; negative: PNCounterState["n"] };

/** Writes a counter state in both spellings, `{p, n}` and `{positive, negative}`. */
export function toWireCounterState(state: PNCounterState): WireCounterState {
  return { p: state.p, n: state.n, positive: state.p, negative: state.n };
}
