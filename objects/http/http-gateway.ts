import { errorCodeOf, ProtocolError } from "../../core/errors.ts";
import type { Principal } from "../../core/principal.ts";
import type { ClientMessage } from "../../core/protocol/message.ts";
import { dispatch, type Handlers } from "../session/dispatch.ts";
import { CallerBudgets } from "./caller-budgets.ts";

/** The budget key of callers without an id (anonymous `/sync` requests share one budget per home). */
const ANONYMOUS_CALLER = "\u0000anonymous";

export const RATE_LIMITED_MESSAGE = "rate limit exceeded, slow down";

/** What one message caused: the replies a socket would have received, and the error it would have been sent. */
export interface Exchange {
  replies: unknown[];
  error?: { code: number; message: string };
}

/** Message types that leave no state for their connection at the home or at any owner. */
const LEAVES_NOTHING: ReadonlySet<ClientMessage["type"]> = new Set([
  "CLIENT_OP",
  "OP_BATCH",
  "TOPIC_PUB",
  "SEARCH",
  "JOURNAL_READ",
  "ENTRY_PROCESS",
  "ENTRY_PROCESS_BATCH",
  "ORMAP_DIFF_REQUEST",
]);

/**
 * Home role for HTTP callers: runs typed messages through the same `dispatch` (the same access checks, write
 * coordinator, queries and search) as a WebSocket connection, on a connection that lives for one request. Replies
 * are collected instead of sent; the connection is closed afterwards, so a one-shot query leaves no subscription.
 */
export class HttpGateway {
  readonly #handlers: Handlers;
  readonly #home: number;

  readonly #budgets: CallerBudgets;

  constructor(deps: { handlers: Handlers; home: number; budgets?: CallerBudgets }) {
    this.#handlers = deps.handlers;
    this.#home = deps.home;
    this.#budgets = deps.budgets ?? new CallerBudgets();
  }

  /**
   * Runs the messages in order for `principal`; one answer per message. A caller over its op budget (the ops of its
   * OP_BATCHes, 1 for any other message) gets 429 for every message, and nothing runs.
   */
  async exchange(principal: Principal, messages: readonly ClientMessage[]): Promise<Exchange[]> {
    const cost = messages.reduce((sum, m) => sum + (m.type === "OP_BATCH" ? m.payload.ops.length : 1), 0);
    if (!this.#budgets.trySpend(principal.id ?? ANONYMOUS_CALLER, cost)) {
      return messages.map(() => ({ replies: [], error: { code: errorCodeOf("RATE_LIMITED"), message: RATE_LIMITED_MESSAGE } }));
    }
    const conn = `http:${crypto.randomUUID()}`;
    const answers: Exchange[] = [];
    try {
      for (const message of messages) answers.push(await this.#run(conn, principal, message));
    } finally {
      if (messages.some((m) => !LEAVES_NOTHING.has(m.type))) await this.#handlers.connectionClosed(conn);
    }
    return answers;
  }

  async #run(conn: string, principal: Principal, message: ClientMessage): Promise<Exchange> {
    const replies: unknown[] = [];
    try {
      await dispatch(message, this.#handlers, { conn, principal, reply: (m) => replies.push(m) });
      return { replies };
    } catch (err) {
      if (err instanceof ProtocolError) return { replies, error: { code: err.code, message: err.safeMessage } };
      console.error(`[home p${this.#home}] HTTP ${message.type} failed`, err);
      return { replies, error: { code: 500, message: "internal error" } };
    }
  }
}
