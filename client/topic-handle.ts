import type { ClientMessage } from "../core/protocol/message.ts";

/** One message received on a topic. */
export interface TopicMessage {
  data: unknown;
  publisherId?: string;
  /** The server's epoch milliseconds when it relayed the message. */
  timestamp: number;
}

/**
 * A pub/sub topic (PROTOCOL.md §11.1). Messages are not stored: a publish made offline waits in memory
 * and goes out after the next AUTH_ACK; the server never echoes a publish to its sender.
 */
export class TopicHandle {
  readonly name: string;
  readonly #send: (message: ClientMessage) => boolean;
  readonly #listeners = new Set<(message: TopicMessage) => void>();
  #queued: unknown[] = [];

  constructor(name: string, send: (message: ClientMessage) => boolean) {
    this.name = name;
    this.#send = send;
  }

  publish(data: unknown): void {
    if (!this.#send({ type: "TOPIC_PUB", payload: { topic: this.name, data } })) this.#queued.push(data);
  }

  /** Calls `listener` for every message from other publishers; returns the unsubscribe function. */
  subscribe(listener: (message: TopicMessage) => void): () => void {
    if (this.#listeners.size === 0) this.#send({ type: "TOPIC_SUB", payload: { topic: this.name } });
    this.#listeners.add(listener);
    return () => {
      if (this.#listeners.delete(listener) && this.#listeners.size === 0) {
        this.#send({ type: "TOPIC_UNSUB", payload: { topic: this.name } });
      }
    };
  }

  /** After AUTH_ACK: subscribes again if anyone listens and sends the publishes made offline. */
  resume(): void {
    if (this.#listeners.size > 0) this.#send({ type: "TOPIC_SUB", payload: { topic: this.name } });
    const queued = this.#queued;
    this.#queued = [];
    for (const data of queued) this.publish(data);
  }

  deliver(message: TopicMessage): void {
    for (const listener of this.#listeners) listener(message);
  }
}
