import { encodeValue } from "../../core/codec.ts";
import { partitionOfName } from "../../core/placement.ts";
import { toWireCounterState } from "../../core/protocol/counters.ts";
import type { PNCounterState } from "../../core/protocol/shared.ts";
import type { CoordinationApi } from "./coordination-api.ts";
import { lockTtlMs } from "./lock-service.ts";
import type { SqlPort } from "../storage/sql-port.ts";

export type CoordinationReply = (message: unknown) => void;

/**
 * Home role, topics, PN counters and locks (PROTOCOL.md §11.1-11.3): routes each message to the owner of its name
 * and answers the connection. The owners a connection subscribed or locked at are kept in SQLite
 * (conn_coordination) so the connection's close reaches every one of them.
 */
export class CoordinationCoordinator {
  readonly #owners: (partition: number) => CoordinationApi;
  readonly #sql: SqlPort;
  readonly #home: number;

  constructor(deps: { owners: (partition: number) => CoordinationApi; sql: SqlPort; home: number }) {
    this.#owners = deps.owners;
    this.#sql = deps.sql;
    this.#home = deps.home;
  }

  /** TOPIC_SUB: no reply. */
  topicSubscribe(conn: string, topic: string): Promise<void> {
    return this.#remembered(conn, topic).topicSubscribe({ topic, subscriber: this.#ref(conn) });
  }

  /** TOPIC_UNSUB: no reply. */
  topicUnsubscribe(conn: string, topic: string): Promise<void> {
    return this.#owner(topic).topicUnsubscribe({ topic, subscriber: this.#ref(conn) });
  }

  /** TOPIC_PUB: no reply; `publisherId` is the publisher's user id (or its connection id without one). */
  topicPublish(conn: string, publisherId: string, topic: string, data: unknown): Promise<void> {
    return this.#owner(topic).topicPublish({ topic, data: encodeValue(data), publisher: this.#ref(conn), publisherId });
  }

  /** COUNTER_REQUEST: COUNTER_RESPONSE; subscribes the connection. */
  async counterRequest(conn: string, name: string, reply: CoordinationReply): Promise<void> {
    const state = await this.#remembered(conn, name).counterRequest({ name, subscriber: this.#ref(conn) });
    reply({ type: "COUNTER_RESPONSE", payload: { name, state: toWireCounterState(state) } });
  }

  /** COUNTER_SYNC: COUNTER_UPDATE with the merged state to the sender (Part A clarifications); subscribes it. */
  async counterSync(conn: string, name: string, state: PNCounterState, reply: CoordinationReply): Promise<void> {
    const merged = await this.#remembered(conn, name).counterSync({ name, state, sender: this.#ref(conn) });
    reply({ type: "COUNTER_UPDATE", payload: { name, state: toWireCounterState(merged) } });
  }

  /** LOCK_REQUEST: LOCK_GRANTED now, or later from the owner when the request's turn comes. */
  async lockRequest(conn: string, request: { requestId: string; name: string; ttl?: number | undefined }, reply: CoordinationReply): Promise<void> {
    const { requestId, name } = request;
    const outcome = await this.#remembered(conn, name).lockRequest({ requestId, name, ttlMs: lockTtlMs(request.ttl), holder: this.#ref(conn) });
    if (outcome.granted) reply({ type: "LOCK_GRANTED", payload: { requestId, name, fencingToken: outcome.fencingToken } });
  }

  /** LOCK_RELEASE: LOCK_RELEASED{success}. */
  async lockRelease(
    conn: string,
    request: { requestId?: string | undefined; name: string; fencingToken: number },
    reply: CoordinationReply,
  ): Promise<void> {
    const { name, fencingToken } = request;
    const success = await this.#owner(name).lockRelease({ name, fencingToken, holder: this.#ref(conn) });
    reply({ type: "LOCK_RELEASED", payload: { requestId: request.requestId ?? "", name, success } });
  }

  /** The connection closed: every owner it subscribed or locked at forgets it. */
  async closed(conn: string): Promise<void> {
    const partitions = this.#sql.exec("SELECT partition FROM conn_coordination WHERE conn = ?", conn).map((row) => Number(row.partition));
    if (partitions.length === 0) return;
    this.#sql.exec("DELETE FROM conn_coordination WHERE conn = ?", conn);
    await Promise.all(partitions.map((p) => this.#owners(p).dropConnection(this.#ref(conn))));
  }

  /** The owner of `name`, after recording that the connection has state there. */
  #remembered(conn: string, name: string): CoordinationApi {
    const partition = partitionOfName(name);
    this.#sql.exec("INSERT INTO conn_coordination (conn, partition) VALUES (?, ?) ON CONFLICT DO NOTHING", conn, partition);
    return this.#owners(partition);
  }

  #owner(name: string): CoordinationApi {
    return this.#owners(partitionOfName(name));
  }

  #ref(conn: string): { home: number; conn: string } {
    return { home: this.#home, conn };
  }
}
