import type { ClientMessage } from "../core/protocol/message.ts";
import type { EntryProcessBatchResponseMessage, EntryProcessResponseMessage } from "../core/protocol/processors.ts";
import type { EntryProcessor } from "../core/protocol/shared.ts";

/** What an entry processor did to one key. */
export interface EntryProcessorResult {
  success: boolean;
  /** The processor's return value. */
  result?: unknown;
  /** The key's value after the processor ran. */
  newValue?: unknown;
  error?: string;
}

interface PendingRequest {
  message: ClientMessage;
  sent: boolean;
  answer(message: EntryProcessResponseMessage | EntryProcessBatchResponseMessage): void;
  reject(error: Error): void;
}

/**
 * ENTRY_PROCESS and ENTRY_PROCESS_BATCH requests waiting for their answer (PROTOCOL.md §11.5). A request made
 * offline is sent after the next handshake. One sent on a connection that closed before its answer is rejected,
 * not sent again: processors are not idempotent (an `increment` may have run).
 */
export class ProcessorRequests {
  readonly #send: (message: ClientMessage) => boolean;
  readonly #newId: () => string;
  readonly #pending = new Map<string, PendingRequest>();

  constructor(send: (message: ClientMessage) => boolean, newId: () => string) {
    this.#send = send;
    this.#newId = newId;
  }

  /** Runs the built-in processor `processor.name` on `key` at the key's owner. */
  executeOnKey(mapName: string, key: string, processor: EntryProcessor): Promise<EntryProcessorResult> {
    const requestId = this.#newId();
    return new Promise((resolve, reject) => {
      this.#request(requestId, { type: "ENTRY_PROCESS", requestId, mapName, key, processor }, reject, (message) => {
        if (message.type === "ENTRY_PROCESS_RESPONSE") resolve(outcomeOf(message));
        else reject(new Error("ENTRY_PROCESS answered with a batch response"));
      });
    });
  }

  /** Runs the processor on each of `keys`; resolves with each key's result. */
  executeOnKeys(mapName: string, keys: string[], processor: EntryProcessor): Promise<Map<string, EntryProcessorResult>> {
    const requestId = this.#newId();
    return new Promise((resolve, reject) => {
      this.#request(requestId, { type: "ENTRY_PROCESS_BATCH", requestId, mapName, keys, processor }, reject, (message) => {
        if (message.type === "ENTRY_PROCESS_BATCH_RESPONSE") resolve(new Map(Object.entries(message.results).map(([k, r]) => [k, outcomeOf(r)])));
        else reject(new Error("ENTRY_PROCESS_BATCH answered with a single response"));
      });
    });
  }

  /** After AUTH_ACK: rejects requests lost with the old connection and sends those never sent. */
  resume(): void {
    for (const [requestId, request] of this.#pending) {
      if (request.sent) {
        this.#pending.delete(requestId);
        request.reject(new Error("connection lost before the entry processor answered; it may or may not have run"));
      } else {
        request.sent = this.#send(request.message);
      }
    }
  }

  answer(message: EntryProcessResponseMessage | EntryProcessBatchResponseMessage): void {
    const request = this.#pending.get(message.requestId);
    if (request === undefined) return;
    this.#pending.delete(message.requestId);
    request.answer(message);
  }

  #request(requestId: string, message: ClientMessage, reject: (error: Error) => void, answer: PendingRequest["answer"]): void {
    this.#pending.set(requestId, { message, sent: this.#send(message), answer, reject });
  }
}

function outcomeOf(outcome: { success: boolean; result?: unknown; newValue?: unknown; error?: string | undefined }): EntryProcessorResult {
  const result: EntryProcessorResult = { success: outcome.success };
  if (outcome.result !== undefined) result.result = outcome.result;
  if (outcome.newValue !== undefined) result.newValue = outcome.newValue;
  if (outcome.error !== undefined) result.error = outcome.error;
  return result;
}
