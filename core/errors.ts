import type { ErrorMessage } from "./protocol/connection.ts";
import type { AuthFailMessage } from "./protocol/auth.ts";
import type { OpRejectedMessage } from "./protocol/ops.ts";

/**
 * The closed list of error kinds, each with its meaning and the numeric code sent on the wire (4xx/5xx,
 * read like HTTP status codes). A socket-level error goes out as `ERROR{code, message}`, a rejected op as
 * `OP_REJECTED{opId, reason, code}` and a failed handshake as `AUTH_FAIL{error}` (see the converters below).
 */
export const ERROR_KINDS = {
  BAD_FRAME: { code: 400, meaning: "the frame is not one binary msgpack message" },
  UNKNOWN_TYPE: { code: 400, meaning: "the message type is not one of the protocol's types" },
  INVALID_MESSAGE: { code: 422, meaning: "the message does not match its type's schema" },
  SCHEMA_VIOLATION: { code: 422, meaning: "a written value does not conform to its map's JSON Schema" },
  TOO_LARGE: { code: 413, meaning: "a frame, value, string or list is over its limit (core/limits.ts)" },
  UNAUTHENTICATED: { code: 401, meaning: "the connection has not authenticated yet" },
  AUTH_FAILED: { code: 401, meaning: "the token was missing, malformed, expired or badly signed" },
  FORBIDDEN: { code: 403, meaning: "the authenticated user may not do this" },
  DRIFT: { code: 409, meaning: "the op's timestamp is too far ahead of the server clock" },
  RATE_LIMITED: { code: 429, meaning: "the connection spent its op budget; the frame was dropped, retry later" },
  NOT_FOUND: { code: 404, meaning: "the named thing does not exist" },
  NOT_SUPPORTED: { code: 501, meaning: "the message is valid but this server does not implement it" },
  TIMEOUT: { code: 504, meaning: "the work did not finish in time" },
  UNAVAILABLE: { code: 503, meaning: "the work failed for a passing reason and may be retried" },
  INTERNAL: { code: 500, meaning: "an unexpected server fault; details are logged, never sent" },
} as const satisfies Record<string, { code: number; meaning: string }>;

export type ErrorKind = keyof typeof ERROR_KINDS;

/** The wire code of an error kind. */
export function errorCodeOf(kind: ErrorKind): number {
  return ERROR_KINDS[kind].code;
}

/** True when `value` names an error kind. */
export function isErrorKind(value: string): value is ErrorKind {
  return Object.hasOwn(ERROR_KINDS, value);
}

/** An error that may be shown to the client: a kind and a message that reveals nothing internal. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  readonly kind: ErrorKind;
  readonly code: number;
  readonly safeMessage: string;

  constructor(kind: ErrorKind, safeMessage: string, options?: { cause?: unknown }) {
    super(safeMessage, options);
    this.kind = kind;
    this.code = errorCodeOf(kind);
    this.safeMessage = safeMessage;
  }
}

/** The `ERROR` message that reports `err` on a socket. */
export function toErrorMessage(err: ProtocolError): ErrorMessage {
  return { type: "ERROR", payload: { code: err.code, message: err.safeMessage } };
}

/** The `OP_REJECTED` message that reports `err` for one op. */
export function toOpRejected(opId: string, err: ProtocolError): OpRejectedMessage {
  return { type: "OP_REJECTED", payload: { opId, reason: err.safeMessage, code: err.code } };
}

/** The `AUTH_FAIL` message that reports a failed handshake (TopGun sends `error` only). */
export function toAuthFail(err: ProtocolError): AuthFailMessage {
  return { type: "AUTH_FAIL", error: err.safeMessage };
}

// What the runtimes throw when a send races the peer going away: workerd ("Can't call WebSocket send()
// after close().", "Network connection lost.", "WebSocket peer disconnected"), the `ws` package ("WebSocket
// is not open: readyState 3") and test doubles ("WebSocket is closed").
const PEER_GONE_PATTERNS: readonly RegExp[] = [
  /network connection lost/i,
  /websocket peer disconnected/i,
  /can't call websocket \w+\(\) after close\(\)/i,
  /websocket is (?:already )?(?:closed|closing|not open)/i,
  /websocket (?:was|has been) closed/i,
  /on a closed websocket/i,
];

/**
 * True when `err` only says the peer is gone (the socket closed while we were sending). Such errors are
 * runtime noise: the close event cleans the connection up, so callers drop them instead of reporting.
 */
export function isPeerGoneError(err: unknown): boolean {
  const message = err instanceof Error ? err.message : typeof err === "string" ? err : undefined;
  if (message === undefined) return false;
  return PEER_GONE_PATTERNS.some((pattern) => pattern.test(message));
}
