// The handshake (PROTOCOL.md §2.1). All four messages are flat.
import * as z from "./zod.ts";
import { MAX_TOKEN_LENGTH } from "../limits.ts";
import { optionalField, wireU32 } from "./shared.ts";

export const authMessageSchema = z.object({
  type: z.literal("AUTH"),
  // Optional on the wire: the authenticator decides (AUTH_FAIL when a token is required, AUTH_ACK in no-auth mode).
  token: optionalField(z.string().check(z.maxLength(MAX_TOKEN_LENGTH))),
  protocolVersion: optionalField(wireU32),
});
export type AuthMessage = z.infer<typeof authMessageSchema>;

export const authRequiredMessageSchema = z.object({ type: z.literal("AUTH_REQUIRED") });
export type AuthRequiredMessage = z.infer<typeof authRequiredMessageSchema>;

export const authAckMessageSchema = z.object({
  type: z.literal("AUTH_ACK"),
  protocolVersion: optionalField(wireU32),
  userId: optionalField(z.string()),
});
export type AuthAckMessage = z.infer<typeof authAckMessageSchema>;

export const authFailMessageSchema = z.object({
  type: z.literal("AUTH_FAIL"),
  error: optionalField(z.string()),
  code: optionalField(wireU32),
});
export type AuthFailMessage = z.infer<typeof authFailMessageSchema>;
