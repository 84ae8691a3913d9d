import { decodeValue } from "../../core/codec.ts";
import type { ConnectionSender } from "../delivery/connection-sender.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import { SerialQueue } from "../../core/serial-queue.ts";
import type { SqlPort } from "../storage/sql-port.ts";
import { TopicSubscribers } from "./topic-subscribers.ts";

/** A TOPIC_PUB as the home forwards it: `data` stays msgpack-encoded so any msgpack value crosses the RPC unchanged. */
export interface TopicPublish {
  topic: string;
  data: Uint8Array;
  publisher: ConnectionRef;
  publisherId: string;
}

/**
 * Owner role, pub/sub topics (PROTOCOL.md §11.1, Part A 9): subscriptions live in SQLite (topic_sub) so they survive
 * eviction, and in memory for the topics being published (topic-subscribers.ts). A publish goes to every subscriber
 * but the publisher; one topic's publishes are delivered one after another, so subscribers see them in the order the
 * owner received them.
 */
export class TopicService {
  readonly #subscribers: TopicSubscribers;
  readonly #sender: ConnectionSender;
  readonly #clock: () => number;
  readonly #queue = new SerialQueue();

  constructor(deps: { sql: SqlPort; sender: ConnectionSender; clock?: () => number }) {
    this.#subscribers = new TopicSubscribers(deps.sql);
    this.#sender = deps.sender;
    this.#clock = deps.clock ?? Date.now;
  }

  subscribe(topic: string, subscriber: ConnectionRef): void {
    this.#subscribers.add(topic, subscriber);
  }

  unsubscribe(topic: string, subscriber: ConnectionRef): void {
    this.#subscribers.remove(topic, subscriber);
  }

  publish(request: TopicPublish): Promise<void> {
    return this.#queue.run(request.topic, () => this.#deliver(request));
  }

  dropConnection(ref: ConnectionRef): void {
    this.#subscribers.dropConnection(ref);
  }

  async #deliver({ topic, data, publisher, publisherId }: TopicPublish): Promise<void> {
    const targets = this.#subscribers.of(topic).filter((ref) => !(ref.home === publisher.home && ref.conn === publisher.conn));
    const message = { type: "TOPIC_MESSAGE", payload: { topic, data: decodeValue(data), publisherId, timestamp: this.#clock() } };
    for (const gone of await this.#sender.send(targets, [message])) this.dropConnection(gone);
  }
}
