// The client's edge: a decoded frame becomes a typed server message here. Core's zod schemas stay on the server,
// which checks everything it receives; these guards check the shapes the client reads (client/wire/README.md).
import type { ServerMessage, ServerMessageType } from "../../core/protocol/message.ts";
import { isMap } from "./guard.ts";
import { serverMessageGuards } from "./server-message-guards.ts";

const MAX_ERROR_MESSAGE_LENGTH = 200;

/** A typed message, or why the frame was not one. */
export type ServerParseResult = { ok: true; message: ServerMessage } | { ok: false; error: string };

/** Validates one decoded server→client message. */
export function parseServerMessage(raw: unknown): ServerParseResult {
  if (!isMap(raw) || typeof raw.type !== "string") return failure("a message must be a map with a string `type`");
  const type = raw.type;
  if (!isServerMessageType(type)) return failure(`unknown message type ${JSON.stringify(type.slice(0, 64))}`);
  const trail: string[] = [];
  try {
    if (isServerMessage(raw, type, trail)) return { ok: true, message: raw };
  } catch (err) {
    // A deeply nested value exhausts the stack inside a guard; that is the sender's fault, not ours.
    if (err instanceof RangeError) return failure(`invalid ${type}: nested too deeply`);
    throw err;
  }
  return failure(`invalid ${type} at ${trail.length > 0 ? trail.join(".") : "(message)"}`);
}

function isServerMessage(raw: unknown, type: ServerMessageType, trail: string[]): raw is ServerMessage {
  return serverMessageGuards[type](raw, trail);
}

function isServerMessageType(type: string): type is ServerMessageType {
  return Object.hasOwn(serverMessageGuards, type);
}

function failure(message: string): ServerParseResult {
  return { ok: false, error: message.slice(0, MAX_ERROR_MESSAGE_LENGTH) };
}
