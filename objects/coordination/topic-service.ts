import { decodeValue } from "../../core/codec.ts";
import type { ConnectionSender } from "../delivery/connection-sender.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import { SerialQueue } from "../../core/serial-queue.ts";
import type { SqlPort } from "../storage/sql-port.ts";

/** A TOPIC_PUB as the home forwards it: `data` stays msgpack-encoded so any msgpack value crosses the RPC unchanged. */
export interface TopicPublish {
  topic: string;
  data: Uint8Array;
  publisher: ConnectionRef;
  publisherId: string;
}

/**
 * Owner role, pub/sub topics (PROTOCOL.md §11.1, Part A 9): subscriptions live in SQLite (topic_sub) so they survive
 * eviction. A publish goes to every subscriber but the publisher; one topic's publishes are delivered one after
 * another, so subscribers see them in the order the owner received them.
 */
export class TopicService {
  readonly #sql: SqlPort;
  readonly #sender: ConnectionSender;
  readonly #clock: () => number;
  readonly #queue = new SerialQueue();

  constructor(deps: { sql: SqlPort; sender: ConnectionSender; clock?: () => number }) {
    this.#sql = deps.sql;
    this.#sender = deps.sender;
    this.#clock = deps.clock ?? Date.now;
  }

  subscribe(topic: string, { home, conn }: ConnectionRef): void {
    this.#sql.exec("INSERT INTO topic_sub (topic, home, conn) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", topic, home, conn);
  }

  unsubscribe(topic: string, { home, conn }: ConnectionRef): void {
    this.#sql.exec("DELETE FROM topic_sub WHERE topic = ? AND home = ? AND conn = ?", topic, home, conn);
  }

  publish(request: TopicPublish): Promise<void> {
    return this.#queue.run(request.topic, () => this.#deliver(request));
  }

  dropConnection({ home, conn }: ConnectionRef): void {
    this.#sql.exec("DELETE FROM topic_sub WHERE home = ? AND conn = ?", home, conn);
  }

  async #deliver({ topic, data, publisher, publisherId }: TopicPublish): Promise<void> {
    const targets = this.#sql
      .exec("SELECT home, conn FROM topic_sub WHERE topic = ?", topic)
      .map((row) => ({ home: Number(row.home), conn: String(row.conn) }))
      .filter((ref) => !(ref.home === publisher.home && ref.conn === publisher.conn));
    const message = { type: "TOPIC_MESSAGE", payload: { topic, data: decodeValue(data), publisherId, timestamp: this.#clock() } };
    for (const gone of await this.#sender.send(targets, [message])) this.dropConnection(gone);
  }
}
