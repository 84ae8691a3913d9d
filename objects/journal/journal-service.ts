import { decodeValue, encodeMessage, encodeValue } from "../../core/codec.ts";
import { ProtocolError } from "../../core/errors.ts";
import type { Timestamp } from "../../core/hlc.ts";
import type { JournalEventData } from "../../core/protocol/shared.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import { HomeDeliveries, type DeliverEachToHome } from "../delivery/home-deliveries.ts";
import { bulkInsert, type SqlPort, type SqlRow, type SqlValue } from "../storage/sql-port.ts";

/** Events kept per partition (up to TRIM_EVERY more between trims): older ones are trimmed on append (a bounded ring, like TopGun's capacity of 10000). */
export const JOURNAL_MAX_EVENTS_PER_PARTITION = 10_000;
/** Appended events between two trims (so the bound is checked without a scan per write). */
const TRIM_EVERY = 256;
/** Events a JOURNAL_SUBSCRIBE with `fromSequence` replays at most, per partition. */
export const JOURNAL_MAX_BACKLOG = 1000;
/** Decimal digits of the partition id at the end of a sequence (271 partitions < 1000). */
const PARTITION_DIGITS = 3;
const PARTITION_FACTOR = 10n ** BigInt(PARTITION_DIGITS);

export type JournalEventType = "PUT" | "UPDATE" | "DELETE";

/** A change to journal, before it gets its sequence. */
export interface NewJournalEvent {
  type: JournalEventType;
  map: string;
  key: string;
  value?: unknown;
  previousValue?: unknown;
  /** `value` msgpack-encoded, when the caller has it already (saves encoding it again). */
  encodedValue?: Uint8Array;
  /** `previousValue` msgpack-encoded, when the caller has it already. */
  encodedPreviousValue?: Uint8Array;
  timestamp: Timestamp;
}

/**
 * A sequence is `tick * 1000 + partition` as a decimal string. `tick` is per partition, strictly increasing, and
 * at least the wall clock in microseconds (max(last + 1, Date.now() * 1000)); so sequences are unique in a
 * namespace, sort numerically, and their global order follows the owners' wall clocks (an event at one partition
 * after a write at another, observed a ms later, sorts after it).
 */
export function formatSequence(tick: number, partition: number): string {
  return `${tick}${String(partition).padStart(PARTITION_DIGITS, "0")}`;
}

export function parseSequence(sequence: string): { tick: number; partition: number } {
  if (!/^\d{1,40}$/.test(sequence)) throw new ProtocolError("INVALID_MESSAGE", "a journal sequence is a decimal number");
  const value = BigInt(sequence);
  const tick = value / PARTITION_FACTOR;
  return { tick: tick > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(tick), partition: Number(value % PARTITION_FACTOR) };
}

/** Numeric order of two sequences (no leading zeros but for "0"). */
export function compareSequences(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export interface JournalFilter {
  map?: string | undefined;
  types?: readonly JournalEventType[] | undefined;
}

interface Subscription {
  home: number;
  conn: string;
  id: string;
  map: string | null;
  types: JournalEventType[] | null;
}

/**
 * Owner role, event journal (PROTOCOL.md §11.6, Part A 11): the CRDT writer appends an event per applied LWW change
 * and per OR-Map key a change touched (or-journal.ts) in its transaction; reads page by sequence; subscriptions live in SQLite (journal_sub) so they survive eviction,
 * and each new event is pushed as JOURNAL_EVENT to the matching subscribers.
 */
export class JournalService {
  readonly #sql: SqlPort;
  readonly #partition: number;
  readonly #clock: () => number;
  readonly #deliver: DeliverEachToHome;
  #lastTick: number | undefined;
  /** Rows in journal_event, once read (forgotten when a write's transaction rolls back). */
  #count: number | undefined;
  /**
   * journal_sub, once read: every publish needs it, and most partitions have no subscriber. Dropped whenever this
   * service changes journal_sub (the only writer of the table); a new object (after eviction) reads it again.
   */
  #subs: Subscription[] | undefined;

  constructor(deps: { sql: SqlPort; partition: number; deliver: DeliverEachToHome; clock?: () => number }) {
    this.#sql = deps.sql;
    this.#partition = deps.partition;
    this.#deliver = deps.deliver;
    this.#clock = deps.clock ?? Date.now;
  }

  /** Appends events (call inside the write's transaction) and answers them with their sequences. */
  append(events: readonly NewJournalEvent[]): JournalEventData[] {
    if (events.length === 0) return [];
    let last = this.#lastTick ?? Number(this.#sql.exec("SELECT COALESCE(MAX(tick), 0) AS tick FROM journal_event")[0]?.tick ?? 0);
    const before = this.#count ?? Number(this.#sql.exec("SELECT COUNT(*) AS n FROM journal_event")[0]?.n ?? 0);
    const out: JournalEventData[] = [];
    const rows: SqlValue[][] = [];
    const now = this.#clock() * 1000;
    for (const event of events) {
      const tick = Math.max(last + 1, now);
      last = tick;
      rows.push([
        tick, event.map, event.key, event.type,
        event.value === undefined ? null : (event.encodedValue ?? encodeValue(event.value)),
        event.previousValue === undefined ? null : (event.encodedPreviousValue ?? encodeValue(event.previousValue)),
        event.timestamp.millis, event.timestamp.counter, event.timestamp.nodeId,
      ]);
      out.push(toEvent(this.#partition, tick, event));
    }
    // One statement for the batch (a statement costs far more than a row: see bulkInsert).
    bulkInsert(this.#sql, "journal_event (tick, map, key, type, value, prev, millis, counter, node)", rows);
    // The ring's bound: the count is read once, then kept; the oldest rows over the bound go by ascending tick
    // (a scan of the deleted rows only, not of the 10 000 kept).
    let count = before + events.length;
    if (count >= JOURNAL_MAX_EVENTS_PER_PARTITION + TRIM_EVERY) {
      this.#sql.exec(
        "DELETE FROM journal_event WHERE tick IN (SELECT tick FROM journal_event ORDER BY tick LIMIT ?)",
        count - JOURNAL_MAX_EVENTS_PER_PARTITION,
      );
      count = JOURNAL_MAX_EVENTS_PER_PARTITION;
    }
    this.#count = count;
    // Only after the statements ran: a rolled-back transaction throws before this, and ticks stay increasing anyway.
    this.#lastTick = last;
    return out;
  }

  /** A write's transaction rolled back: the kept row count may be off, so it is read again. */
  forget(): void {
    this.#count = undefined;
  }

  /** This partition's events with sequence ≥ `fromSequence` (of `map` when given), in order, at most `limit`. */
  read(request: { fromSequence: string; limit: number; map?: string | undefined }): JournalEventData[] {
    const { tick, partition } = parseSequence(request.fromSequence);
    const minTick = this.#partition >= partition ? tick : tick + 1;
    const rows = request.map === undefined
      ? this.#sql.exec("SELECT * FROM journal_event WHERE tick >= ? ORDER BY tick LIMIT ?", minTick, request.limit)
      : this.#sql.exec("SELECT * FROM journal_event WHERE map = ? AND tick >= ? ORDER BY tick LIMIT ?", request.map, minTick, request.limit);
    return rows.map((row) => rowToEvent(this.#partition, row));
  }

  /** Registers (or replaces) a subscription; answers the backlog from `fromSequence` (when given) atomically with it. */
  subscribe(request: { subscriptionId: string; fromSequence?: string | undefined; filter: JournalFilter; subscriber: ConnectionRef }): JournalEventData[] {
    const { subscriptionId, filter, subscriber } = request;
    this.#sql.exec(
      "INSERT OR REPLACE INTO journal_sub (home, conn, sub_id, map, types) VALUES (?, ?, ?, ?, ?)",
      subscriber.home, subscriber.conn, subscriptionId, filter.map ?? null, filter.types ? JSON.stringify(filter.types) : null,
    );
    this.#subs = undefined;
    if (request.fromSequence === undefined) return [];
    return this.read({ fromSequence: request.fromSequence, limit: JOURNAL_MAX_BACKLOG, map: filter.map }).filter(
      (event) => !filter.types || filter.types.includes(event.type),
    );
  }

  unsubscribe(request: { subscriptionId: string; subscriber: ConnectionRef }): void {
    this.#sql.exec("DELETE FROM journal_sub WHERE home = ? AND conn = ? AND sub_id = ?", request.subscriber.home, request.subscriber.conn, request.subscriptionId);
    this.#subs = undefined;
  }

  dropConnection(home: number, conn: string): void {
    this.#sql.exec("DELETE FROM journal_sub WHERE home = ? AND conn = ?", home, conn);
    this.#subs = undefined;
  }

  /** Pushes new events (after their commit) to the matching subscribers; forgets connections their home no longer has. */
  async publish(events: readonly JournalEventData[]): Promise<void> {
    if (events.length === 0) return;
    const subs = this.#subscriptions();
    if (subs.length === 0) return;
    const outbox = new HomeDeliveries();
    for (const event of events) {
      let frame: Uint8Array | undefined;
      for (const sub of subs) {
        if (sub.map !== null && sub.map !== event.mapName) continue;
        if (sub.types !== null && !sub.types.includes(event.type)) continue;
        frame ??= encodeMessage({ type: "JOURNAL_EVENT", event });
        outbox.add(sub.home, sub.conn, [frame]);
      }
    }
    await outbox.send(this.#deliver, (home, conn) => this.dropConnection(home, conn), "journal");
  }

  #subscriptions(): Subscription[] {
    this.#subs ??= this.#sql.exec("SELECT home, conn, sub_id, map, types FROM journal_sub").map(
      (row): Subscription => ({
        home: Number(row.home),
        conn: String(row.conn),
        id: String(row.sub_id),
        map: row.map === null ? null : String(row.map),
        types: row.types === null ? null : (JSON.parse(String(row.types)) as JournalEventType[]),
      }),
    );
    return this.#subs;
  }
}

function toEvent(partition: number, tick: number, event: NewJournalEvent): JournalEventData {
  const out: JournalEventData = {
    sequence: formatSequence(tick, partition),
    type: event.type,
    mapName: event.map,
    key: event.key,
    timestamp: event.timestamp,
    nodeId: event.timestamp.nodeId,
  };
  if (event.value !== undefined) out.value = event.value;
  if (event.previousValue !== undefined) out.previousValue = event.previousValue;
  return out;
}

function rowToEvent(partition: number, row: SqlRow): JournalEventData {
  const event: NewJournalEvent = {
    type: String(row.type) as JournalEventType,
    map: String(row.map),
    key: String(row.key),
    timestamp: { millis: Number(row.millis), counter: Number(row.counter), nodeId: String(row.node) },
  };
  if (row.value instanceof Uint8Array) event.value = decodeValue(row.value);
  if (row.prev instanceof Uint8Array) event.previousValue = decodeValue(row.prev);
  return toEvent(partition, Number(row.tick), event);
}
