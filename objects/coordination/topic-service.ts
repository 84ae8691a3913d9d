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
 * Publishes of one topic the owner takes before their delivery: the publisher's home goes on with the connection's
 * next frame at once. Past it, a publish answers only once it was delivered, so a publisher faster than the fan-out
 * waits for it, and a topic's queue holds at most this many plus one per publishing connection.
 */
export const TOPIC_BACKLOG = 32;

/**
 * Owner role, pub/sub topics (PROTOCOL.md §11.1, Part A 9): subscriptions live in SQLite (topic_sub) so they survive
 * eviction, and in memory for the topics being published (topic-subscribers.ts). A publish goes to every subscriber
 * but the publisher; one topic's publishes are delivered one after another, so subscribers see them in the order the
 * owner received them. `publish` answers when the owner has taken the publish (TOPIC_BACKLOG), not after its fan-out:
 * a home calls its owners through one stub each, whose calls arrive in the order they were made, so one
 * connection's publishes keep their order while it goes on.
 */
export class TopicService {
  readonly #subscribers: TopicSubscribers;
  readonly #sender: ConnectionSender;
  readonly #clock: () => number;
  readonly #queue = new SerialQueue();
  /** Publishes taken and not yet delivered, by topic (a topic leaves the map when its last one is delivered). */
  readonly #backlog = new Map<string, number>();

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

  /** Takes a publish: resolves at once while the topic's backlog has room, else once this publish was delivered. */
  publish(request: TopicPublish): Promise<void> {
    const { topic } = request;
    const backlog = (this.#backlog.get(topic) ?? 0) + 1;
    this.#backlog.set(topic, backlog);
    const delivered = this.#queue.run(topic, () => this.#deliver(request)).then(() => {
      const left = (this.#backlog.get(topic) ?? 1) - 1;
      if (left > 0) this.#backlog.set(topic, left);
      else this.#backlog.delete(topic);
    });
    return backlog > TOPIC_BACKLOG ? delivered : Promise.resolve();
  }

  /** Resolves once every publish taken so far was delivered (or its delivery failed and was logged). */
  drained(): Promise<void> {
    return this.#queue.settled();
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
