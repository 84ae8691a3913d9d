import { PARTITION_COUNT, partitionsOfMap, type ShardConfig } from "../../core/placement.ts";
import type { JournalEventData } from "../../core/protocol/shared.ts";
import { compareSequences, parseSequence, type JournalEventType, type JournalFilter } from "./journal-service.ts";
import { ConnectionSubscriptions } from "../delivery/connection-subscriptions.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import type { SqlPort } from "../storage/sql-port.ts";

/** What the journal asks of the partitions that may hold a map's events. */
export interface JournalOwner {
  /** This owner's journal events from `fromSequence` (inclusive), in order, at most `limit`. */
  journalRead(request: { fromSequence: string; limit: number; map?: string }): Promise<JournalEventData[]>;
  /** Registers a journal subscription; answers the backlog from `fromSequence` when given. */
  /** `shards`: for a map's journal, the count the home placed the map by (an owner fenced at another count refuses). */
  journalSubscribe(request: { subscriptionId: string; fromSequence?: string; filter: JournalFilter; subscriber: ConnectionRef; shards?: number }): Promise<JournalEventData[]>;
  journalUnsubscribe(request: { subscriptionId: string; subscriber: ConnectionRef }): Promise<void>;
}

/** JOURNAL_READ's default `limit` (PROTOCOL.md §3 row 70). */
export const JOURNAL_DEFAULT_READ_LIMIT = 100;

/**
 * Home role, event journal (PROTOCOL.md §11.6, Part A 11). Events live at the owner of their map (journal-service.ts);
 * a read or subscription names the map's partitions, or all 271 when it has no `mapName`. Reads merge the owners'
 * pages by sequence. Each connection's subscriptions are kept in SQLite (conn_journal) for UNSUBSCRIBE and close.
 */
export class JournalCoordinator {
  readonly #owners: (partition: number) => JournalOwner;
  readonly #shards: () => ShardConfig;
  readonly #subs: ConnectionSubscriptions;
  readonly #home: number;

  constructor(deps: { owners: (partition: number) => JournalOwner; shards: () => ShardConfig; sql: SqlPort; home: number }) {
    this.#owners = deps.owners;
    this.#shards = deps.shards;
    this.#subs = new ConnectionSubscriptions(deps.sql, { name: "conn_journal", id: "sub_id" });
    this.#home = deps.home;
  }

  /** JOURNAL_READ → JOURNAL_READ_RESPONSE: events with sequence ≥ fromSequence (of mapName), in order, `hasMore`. */
  async read(request: { requestId: string; fromSequence: string; limit?: number | undefined; mapName?: string | undefined }, reply: (m: unknown) => void): Promise<void> {
    parseSequence(request.fromSequence);
    const limit = request.limit ?? JOURNAL_DEFAULT_READ_LIMIT;
    const map = request.mapName;
    const pages = await Promise.all(
      this.#partitions(map).map((p) =>
        this.#owners(p).journalRead({ fromSequence: request.fromSequence, limit: limit + 1, ...(map === undefined ? {} : { map }) }),
      ),
    );
    const events = sortEvents(pages.flat());
    reply({ type: "JOURNAL_READ_RESPONSE", requestId: request.requestId, events: events.slice(0, limit), hasMore: events.length > limit });
  }

  /**
   * JOURNAL_SUBSCRIBE (no reply): registers at the owners; with `fromSequence` the stored events from there are sent
   * first (as JOURNAL_EVENT, in order, up to 1000 per owner), then new events as they are written.
   */
  async subscribe(
    conn: string,
    request: { requestId: string; fromSequence?: string | undefined; mapName?: string | undefined; types?: JournalEventType[] | undefined },
    send: (m: unknown) => void,
  ): Promise<void> {
    if (request.fromSequence !== undefined) parseSequence(request.fromSequence);
    const subscriptionId = request.requestId;
    const map = request.mapName;
    const previous = this.#subs.mapOf(conn, subscriptionId);
    if (previous !== undefined) await this.#unsubscribeAt(previous ?? undefined, conn, subscriptionId);
    this.#subs.remember(conn, subscriptionId, map ?? null);
    const subscriber = { home: this.#home, conn };
    const filter = { ...(map === undefined ? {} : { map }), ...(request.types === undefined ? {} : { types: request.types }) };
    const partitions = this.#partitions(map);
    const backlogs = await Promise.all(
      partitions.map((p) =>
        this.#owners(p).journalSubscribe({
          subscriptionId,
          filter,
          subscriber,
          ...(map === undefined ? {} : { shards: partitions.length }),
          ...(request.fromSequence === undefined ? {} : { fromSequence: request.fromSequence }),
        }),
      ),
    );
    for (const event of sortEvents(backlogs.flat())) send({ type: "JOURNAL_EVENT", event });
  }

  /** JOURNAL_UNSUBSCRIBE (no reply). */
  async unsubscribe(conn: string, subscriptionId: string): Promise<void> {
    const map = this.#subs.mapOf(conn, subscriptionId);
    if (map !== undefined) await this.#unsubscribeAt(map ?? undefined, conn, subscriptionId);
  }

  /** The connection closed: forgets its subscriptions here; answers the owners they are registered at (connection-close.ts). */
  forgetConnection(conn: string): number[] {
    return this.#subs.forgetConnection(conn).flatMap((map) => this.#partitions(map ?? undefined));
  }

  async #unsubscribeAt(map: string | undefined, conn: string, subscriptionId: string): Promise<void> {
    this.#subs.forget(conn, subscriptionId);
    const subscriber = { home: this.#home, conn };
    await Promise.all(this.#partitions(map).map((p) => this.#owners(p).journalUnsubscribe({ subscriptionId, subscriber })));
  }

  #partitions(map: string | undefined): number[] {
    return map === undefined ? Array.from({ length: PARTITION_COUNT }, (_, i) => i) : partitionsOfMap(this.#shards(), map);
  }
}

function sortEvents(events: JournalEventData[]): JournalEventData[] {
  return events.sort((a, b) => compareSequences(a.sequence, b.sequence));
}

