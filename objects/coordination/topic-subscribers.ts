import { TOPIC_SUBSCRIBERS_IN_MEMORY } from "../../core/limits.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import type { SqlPort } from "../storage/sql-port.ts";

/** A topic's subscribers, keyed by home and connection. */
type Subscribers = Map<string, ConnectionRef>;

const keyOf = ({ home, conn }: ConnectionRef) => `${home}\u0000${conn}`;

/**
 * Owner role: the connections subscribed to each topic. SQLite (topic_sub) holds them, so they survive eviction and
 * hibernation; a topic a publish read is also held in memory, so the next publishes read no SQL. Every change goes
 * to both. At most `maxHeld` connections are held over all topics, the least recently published topic forgotten
 * first (a forgotten topic is read from SQLite again by its next publish).
 */
export class TopicSubscribers {
  readonly #sql: SqlPort;
  readonly #maxHeld: number;
  /** Held topics, least recently published first (a Map keeps insertion order). */
  readonly #held = new Map<string, Subscribers>();
  #heldCount = 0;

  constructor(sql: SqlPort, maxHeld = TOPIC_SUBSCRIBERS_IN_MEMORY) {
    this.#sql = sql;
    this.#maxHeld = maxHeld;
  }

  add(topic: string, ref: ConnectionRef): void {
    this.#sql.exec("INSERT INTO topic_sub (topic, home, conn) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", topic, ref.home, ref.conn);
    const held = this.#held.get(topic);
    if (held === undefined || held.has(keyOf(ref))) return;
    held.set(keyOf(ref), ref);
    this.#heldCount += 1;
    this.#forgetPast(topic);
  }

  remove(topic: string, ref: ConnectionRef): void {
    this.#sql.exec("DELETE FROM topic_sub WHERE topic = ? AND home = ? AND conn = ?", topic, ref.home, ref.conn);
    this.#removeHeld(topic, ref);
  }

  /** Removes the connection from every topic. */
  dropConnection(ref: ConnectionRef): void {
    const rows = this.#sql.exec("DELETE FROM topic_sub WHERE home = ? AND conn = ? RETURNING topic", ref.home, ref.conn);
    for (const row of rows) this.#removeHeld(String(row.topic), ref);
  }

  /** The topic's subscribers, from memory when held (and then held as the most recently published). */
  of(topic: string): ConnectionRef[] {
    const held = this.#held.get(topic);
    if (held !== undefined) {
      this.#held.delete(topic);
      this.#held.set(topic, held);
      return [...held.values()];
    }
    const read: Subscribers = new Map();
    for (const row of this.#sql.exec("SELECT home, conn FROM topic_sub WHERE topic = ?", topic)) {
      const ref = { home: Number(row.home), conn: String(row.conn) };
      read.set(keyOf(ref), ref);
    }
    if (read.size <= this.#maxHeld) {
      this.#held.set(topic, read);
      this.#heldCount += read.size;
      this.#forgetPast(topic);
    }
    return [...read.values()];
  }

  #removeHeld(topic: string, ref: ConnectionRef): void {
    if (this.#held.get(topic)?.delete(keyOf(ref))) this.#heldCount -= 1;
  }

  /** Forgets the least recently published topics (never `keep`) until at most maxHeld connections are held. */
  #forgetPast(keep: string): void {
    for (const [topic, held] of this.#held) {
      if (this.#heldCount <= this.#maxHeld) return;
      if (topic === keep) continue;
      this.#held.delete(topic);
      this.#heldCount -= held.size;
    }
    if (this.#heldCount > this.#maxHeld) {
      // Only `keep` is left and it grew past the bound by subscriptions: it is read from SQLite again.
      this.#heldCount -= this.#held.get(keep)?.size ?? 0;
      this.#held.delete(keep);
    }
  }
}
