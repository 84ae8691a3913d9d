import { decodeMessage, encodeMessage } from "../../core/codec.ts";
import { ProtocolError, isPeerGoneError, toErrorMessage } from "../../core/errors.ts";
import { MAX_BATCH_ITEMS, MAX_FRAME_BYTES, MAX_NESTING_DEPTH } from "../../core/limits.ts";
import { scanMsgpackDepth } from "../../core/msgpack-depth.ts";
import { splitInboundBatch } from "../../core/protocol/batch-frame.ts";
import { parseClientMessage, type ClientMessage } from "../../core/protocol/message.ts";
import type { Authenticator } from "./authenticator.ts";
import { claimsToKeep, principalOf, type Connection } from "./connection.ts";
import { SerialQueue } from "../../core/serial-queue.ts";
import { WritePipeline } from "./write-pipeline.ts";
import { dispatch, type Handlers } from "./dispatch.ts";
import { OpBudgets, frameCost, type OpRate } from "./op-budget.ts";
import { namespaceFor } from "./tenancy.ts";

/** Close code sent after AUTH_FAIL (policy violation). */
const AUTH_FAILED_CLOSE_CODE = 1008;

/**
 * Home role: one per partition, serving every socket the router handed it. It owns the handshake, turns frames
 * into typed messages (bytes → msgpack → schema), keeps each connection's messages in order, and maps errors to
 * the wire in one place.
 */
export class Session {
  readonly #auth: Authenticator;
  readonly #handlers: Handlers;
  readonly #clock: () => number;
  readonly #home: number;
  readonly #namespace: string;
  readonly #namespaceClaim: string | undefined;
  readonly #queue = new SerialQueue();
  readonly #writes = new WritePipeline();
  readonly #budgets: OpBudgets;

  /**
   * `namespace` is the home's own (from its object name); with `namespaceClaim` (TOPGUN_NAMESPACE_CLAIM) a token
   * is accepted only when that claim names this namespace.
   */
  constructor(deps: { auth: Authenticator; handlers: Handlers; home: number; namespace: string; namespaceClaim?: string | undefined; clock?: () => number; opRate?: OpRate }) {
    this.#auth = deps.auth;
    this.#handlers = deps.handlers;
    this.#home = deps.home;
    this.#namespace = deps.namespace;
    this.#namespaceClaim = deps.namespaceClaim;
    this.#clock = deps.clock ?? Date.now;
    this.#budgets = new OpBudgets(this.#clock, deps.opRate);
  }

  opened(conn: Connection): void {
    if (this.#auth.open) conn.update({ ...conn.state, authenticated: true });
    send(conn, { type: "AUTH_REQUIRED" });
  }

  received(conn: Connection, data: string | ArrayBuffer | Uint8Array): Promise<void> {
    return this.#queue.run(conn.state.id, () => this.#frame(conn, data, false));
  }

  closed(connId: string): Promise<void> {
    this.#budgets.forget(connId);
    return this.#queue.run(connId, () => this.#handlers.connectionClosed(connId));
  }

  async #frame(conn: Connection, data: string | ArrayBuffer | Uint8Array, insideBatch: boolean): Promise<void> {
    const authenticated = conn.state.authenticated;
    const fail = (error: ProtocolError) => {
      // Before authentication bad frames are dropped silently (PROTOCOL.md Part A).
      if (conn.state.authenticated) send(conn, toErrorMessage(error));
    };
    if (typeof data === "string") return fail(new ProtocolError("BAD_FRAME", "text frames are not supported; send msgpack in binary frames"));
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    if (bytes.byteLength > MAX_FRAME_BYTES) return fail(new ProtocolError("TOO_LARGE", `frame exceeds ${MAX_FRAME_BYTES} bytes`));
    // Before decoding: msgpackr recurses once per level, so a hostile nesting must not reach it. Each level takes a
    // byte at least, so a frame no longer than the limit cannot be too deep.
    if (bytes.byteLength > MAX_NESTING_DEPTH) {
      const scan = scanMsgpackDepth(bytes, MAX_NESTING_DEPTH);
      if (!scan.ok && scan.problem === "too-deep") return fail(new ProtocolError("BAD_FRAME", `frame nests deeper than ${MAX_NESTING_DEPTH} levels`));
    }
    let raw: unknown;
    try {
      raw = decodeMessage(bytes);
    } catch {
      return fail(new ProtocolError("BAD_FRAME", "frame is not valid msgpack"));
    }
    const parsed = parseClientMessage(raw);
    if (!parsed.ok) {
      if ("error" in parsed) fail(parsed.error);
      return;
    }
    const message = parsed.message;
    const items = authenticated && !insideBatch && message.type === "BATCH" ? splitInboundBatch(message.data) : [];
    if (authenticated && !insideBatch) {
      // The whole frame is refused before any of it is handled (PROTOCOL-NEXT.md §2); inner items were paid for here.
      if (items.length > MAX_BATCH_ITEMS) return fail(new ProtocolError("TOO_LARGE", "batch exceeds maximum inner item count"));
      if (!this.#budgets.trySpend(conn.state.id, frameCost(message, items.length, this.#budgets.burst))) {
        return fail(new ProtocolError("RATE_LIMITED", "rate limit exceeded, slow down"));
      }
    }
    if (message.type === "AUTH") return this.#authenticate(conn, message.token);
    if (message.type === "PING") {
      send(conn, { type: "PONG", timestamp: message.timestamp, serverTime: this.#clock() });
      return;
    }
    if (!authenticated) return;
    if (message.type === "BATCH") {
      if (insideBatch) return fail(new ProtocolError("INVALID_MESSAGE", "a BATCH cannot contain a BATCH"));
      for (const inner of items) await this.#frame(conn, inner, true);
      return;
    }
    const connId = conn.state.id;
    const isWrite = message.type === "OP_BATCH" || message.type === "CLIENT_OP";
    // A write is placed and the next message handled while its owners apply it (write-pipeline.ts); anything else
    // waits until the connection's writes were answered, so it reads them and its replies come after theirs.
    if (isWrite) await this.#writes.room(connId);
    else await this.#writes.drained(connId);
    const slot = isWrite ? this.#writes.begin(connId, (m) => send(conn, m)) : undefined;
    const reply = slot ? slot.reply : (m: unknown) => send(conn, m);
    let answered: Promise<void> | undefined;
    try {
      await dispatch(message, this.#handlers, {
        conn: connId,
        principal: principalOf(conn.state),
        reply,
        ...(slot ? { pipeline: (done: Promise<void>) => void (answered = done) } : {}),
      });
    } catch (err) {
      if (err instanceof ProtocolError) {
        if (conn.state.authenticated) reply(toErrorMessage(err));
        return;
      }
      console.error(`[home p${this.#home}] ${message.type} failed on connection ${connId}`, err);
      reply(toErrorMessage(new ProtocolError("INTERNAL", "internal error")));
    } finally {
      slot?.finish(answered);
    }
  }

  async #authenticate(conn: Connection, token: string | undefined): Promise<void> {
    if (conn.state.acked) return; // A repeated AUTH is tolerated and ignored.
    const result = await this.#auth.verify(token);
    if (!result.ok) {
      send(conn, { type: "AUTH_FAIL", error: result.error });
      conn.close(AUTH_FAILED_CLOSE_CODE, "authentication failed");
      return;
    }
    const { principal } = result;
    const tenancy = this.#auth.open ? undefined : namespaceFor(principal, this.#namespace, this.#namespaceClaim);
    if (tenancy && !tenancy.ok) {
      send(conn, { type: "AUTH_FAIL", error: tenancy.error });
      conn.close(AUTH_FAILED_CLOSE_CODE, "authentication failed");
      return;
    }
    conn.update({ ...conn.state, authenticated: true, acked: true, userId: result.userId, roles: principal.roles, claims: claimsToKeep(principal.claims) });
    send(conn, { type: "AUTH_ACK", userId: result.userId });
  }
}

function send(conn: Connection, message: unknown): void {
  try {
    conn.send(encodeMessage(message));
  } catch (err) {
    if (!isPeerGoneError(err)) throw err;
    // The peer is gone; its close event cleans up.
  }
}

export type { ClientMessage };
