import { decodeValue, encodeMessage, encodeRows, encodeValue } from "../../core/codec.ts";
import { ProtocolError } from "../../core/errors.ts";
import type { Timestamp } from "../../core/hlc.ts";
import type { JournalEventData } from "../../core/protocol/shared.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import { HomeDeliveries, type DeliverEachToHome } from "../delivery/home-deliveries.ts";
import { fromHex } from "../storage/hex.ts";
import type { SqlPort } from "../storage/sql-port.ts";

/** Events kept per partition (up to JOURNAL_TRIM_EVERY more between trims): older ones are trimmed on append (a bounded ring, like TopGun's capacity of 10000). */
export const JOURNAL_MAX_EVENTS_PER_PARTITION = 10_000;
/**
 * Events over the bound that trigger a trim (so the bound is checked without a scan per write). A trim drops the
 * oldest batches down to the bound, so under a steady write load it runs once per this many events (at 256 it ran
 * every third 100-op batch, ~3% of the write path's CPU).
 */
export const JOURNAL_TRIM_EVERY = 2_048;
/** Events a JOURNAL_SUBSCRIBE with `fromSequence` replays at most, per partition. */
export const JOURNAL_MAX_BACKLOG = 1000;
/** Decimal digits of the partition id at the end of a sequence (271 partitions < 1000). */
const PARTITION_DIGITS = 3;
/** The zero-padded partition of a sequence, by partition (a sequence is formatted for every journal event). */
const PARTITION_SUFFIXES: string[] = [];
const PARTITION_FACTOR = 10n ** BigInt(PARTITION_DIGITS);
/** Oldest batch rows a trim looks at (a batch holds up to MAX_BATCH_OPS events; the overflow is JOURNAL_TRIM_EVERY or more). */
const TRIM_BATCHES_READ = 64;
/** Batch rows a read decodes per statement. */
const READ_BATCHES_PER_STATEMENT = 16;

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
  return `${tick}${(PARTITION_SUFFIXES[partition] ??= String(partition).padStart(PARTITION_DIGITS, "0"))}`;
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
  /** Events in journal_batch, once read (forgotten when a write's transaction rolls back). */
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

  /**
   * Appends events (call inside the write's transaction) as one journal_batch row, and answers them with their
   * sequences; previous values are decoded for the answer only while someone subscribes (the answer feeds `publish`).
   */
  append(events: readonly NewJournalEvent[]): JournalEventData[] {
    if (events.length === 0) return [];
    let last = this.#lastTick ?? Number(this.#sql.exec("SELECT COALESCE(MAX(last_tick), 0) AS tick FROM journal_batch")[0]?.tick ?? 0);
    const before = this.#count ?? Number(this.#sql.exec("SELECT COALESCE(SUM(count), 0) AS n FROM journal_batch")[0]?.n ?? 0);
    const withPrevious = this.#subscriptions().length > 0;
    const out: JournalEventData[] = [];
    const rows: unknown[][] = [];
    const now = this.#clock() * 1000;
    let first: number | undefined;
    let map: string | undefined;
    let node: string | undefined;
    for (const event of events) {
      const tick = Math.max(last + 1, now);
      first ??= tick;
      last = tick;
      const value = event.value === undefined ? null : (event.encodedValue ?? encodeValue(event.value));
      const previous = event.encodedPreviousValue ?? (event.previousValue === undefined ? null : encodeValue(event.previousValue));
      // A map or node id equal to the row before's is stored as null (`eventsOf` carries it forward): a batch's events
      // mostly share both, and encoding them again per event was a third of the append.
      const { nodeId } = event.timestamp;
      rows.push([tick, event.map === map ? null : event.map, event.key, event.type, value, previous, event.timestamp.millis, event.timestamp.counter, nodeId === node ? null : nodeId]);
      map = event.map;
      node = nodeId;
      out.push(toEvent(this.#partition, tick, event, withPrevious));
    }
    // One row for the batch: a row costs far more than its bytes (measured: ~9 µs per appended event row).
    this.#sql.exec(
      "INSERT INTO journal_batch (first_tick, last_tick, count, events) VALUES (?, ?, ?, ?)",
      first ?? last, last, events.length, encodeRows(rows),
    );
    this.#count = this.#trim(before + events.length);
    // Only after the statements ran: a rolled-back transaction throws before this, and ticks stay increasing anyway.
    this.#lastTick = last;
    return out;
  }

  /**
   * The ring's bound: once JOURNAL_TRIM_EVERY events over it, drops the oldest batches while at least the bound's worth of
   * events stays (reads the few oldest batch rows, not the events). Answers the events kept.
   */
  #trim(count: number): number {
    if (count < JOURNAL_MAX_EVENTS_PER_PARTITION + JOURNAL_TRIM_EVERY) return count;
    let kept = count;
    let upTo: number | undefined;
    for (const row of this.#sql.exec("SELECT first_tick, count FROM journal_batch ORDER BY first_tick LIMIT ?", TRIM_BATCHES_READ)) {
      const n = Number(row.count);
      if (kept - n < JOURNAL_MAX_EVENTS_PER_PARTITION) break;
      kept -= n;
      upTo = Number(row.first_tick);
    }
    if (upTo !== undefined) this.#sql.exec("DELETE FROM journal_batch WHERE first_tick <= ?", upTo);
    return kept;
  }

  /** A write's transaction rolled back: the kept event count may be off, so it is read again. */
  forget(): void {
    this.#count = undefined;
  }

  /** This partition's events with sequence ≥ `fromSequence` (of `map` when given), in order, at most `limit`. */
  read(request: { fromSequence: string; limit: number; map?: string | undefined }): JournalEventData[] {
    const { tick, partition } = parseSequence(request.fromSequence);
    const minTick = this.#partition >= partition ? tick : tick + 1;
    const out: JournalEventData[] = [];
    // From the batch holding minTick (the last one starting at or before it), in tick order.
    let from = Number(this.#sql.exec("SELECT COALESCE(MAX(first_tick), 0) AS tick FROM journal_batch WHERE first_tick <= ?", minTick)[0]?.tick ?? 0);
    while (out.length < request.limit) {
      const rows = this.#sql.exec(
        "SELECT first_tick, events FROM journal_batch WHERE first_tick >= ? ORDER BY first_tick LIMIT ?",
        from,
        READ_BATCHES_PER_STATEMENT,
      );
      for (const row of rows) {
        for (const event of eventsOf(row.events)) {
          if (event.tick < minTick || (request.map !== undefined && event.map !== request.map)) continue;
          if (out.length < request.limit) out.push(toEvent(this.#partition, event.tick, event, true));
        }
      }
      const last = rows.at(-1);
      if (!last || rows.length < READ_BATCHES_PER_STATEMENT) break;
      from = Number(last.first_tick) + 1;
    }
    return out;
  }

  /**
   * The journal's clock now (ms). Every event appended from now on gets a tick ≥ this × 1000 (a tick is at least the
   * wall clock in µs and above every earlier tick), so `keysChangedSince` of it finds each change made after this call.
   */
  clockMillis(): number {
    return this.#clock();
  }

  /**
   * The distinct keys of `map` with an event at tick ≥ `sinceMillis` × 1000, oldest change first, at most `limit`.
   * Answers only what the ring still holds: a key changed before the ring's oldest batch is not in it.
   */
  keysChangedSince(map: string, sinceMillis: number, limit: number): string[] {
    const minTick = sinceMillis * 1000;
    const keys = new Set<string>();
    if (limit <= 0) return [];
    let from = Number(this.#sql.exec("SELECT COALESCE(MAX(first_tick), 0) AS tick FROM journal_batch WHERE first_tick <= ?", minTick)[0]?.tick ?? 0);
    for (;;) {
      const rows = this.#sql.exec(
        "SELECT first_tick, events FROM journal_batch WHERE first_tick >= ? ORDER BY first_tick LIMIT ?",
        from,
        READ_BATCHES_PER_STATEMENT,
      );
      for (const row of rows) {
        for (const event of eventKeysOf(row.events)) {
          if (event.tick < minTick || event.map !== map) continue;
          keys.add(event.key);
          if (keys.size >= limit) return [...keys];
        }
      }
      const last = rows.at(-1);
      if (!last || rows.length < READ_BATCHES_PER_STATEMENT) return [...keys];
      from = Number(last.first_tick) + 1;
    }
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

  /**
   * Pushes new events (after their commit) to the matching subscribers; forgets connections their home no longer has.
   * With `into`, the frames are added to it instead (the caller sends them with the write's other frames).
   */
  async publish(events: readonly JournalEventData[], into?: HomeDeliveries): Promise<void> {
    if (events.length === 0) return;
    const subs = this.#subscriptions();
    if (subs.length === 0) return;
    const outbox = into ?? new HomeDeliveries();
    for (const event of events) {
      let frame: Uint8Array | undefined;
      for (const sub of subs) {
        if (sub.map !== null && sub.map !== event.mapName) continue;
        if (sub.types !== null && !sub.types.includes(event.type)) continue;
        frame ??= encodeMessage({ type: "JOURNAL_EVENT", event });
        outbox.add(sub.home, sub.conn, [frame]);
      }
    }
    if (!into) await outbox.send(this.#deliver, (home, conn) => this.dropConnection(home, conn), "journal");
  }

  /** The subscriptions filtered to `map`, as `subscribe` takes them (a reshard registers them at the map's new owners). */
  subscriptionsOn(map: string): { subscriptionId: string; filter: JournalFilter; subscriber: ConnectionRef }[] {
    return this.#subscriptions()
      .filter((sub) => sub.map === map)
      .map((sub) => ({ subscriptionId: sub.id, filter: { map, ...(sub.types ? { types: sub.types } : {}) }, subscriber: { home: sub.home, conn: sub.conn } }));
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

function toEvent(partition: number, tick: number, event: NewJournalEvent, withPrevious: boolean): JournalEventData {
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
  else if (withPrevious && event.encodedPreviousValue) out.previousValue = decodeValue(event.encodedPreviousValue);
  return out;
}

/**
 * The events of one journal_batch row: a msgpack array written by `append` (values as binary), or a JSON array
 * written by schema step 12 from older rows (values as hex).
 */
function eventsOf(stored: unknown): (NewJournalEvent & { tick: number })[] {
  const parsed: unknown = stored instanceof Uint8Array ? decodeValue(stored) : typeof stored === "string" ? JSON.parse(stored) : undefined;
  if (!Array.isArray(parsed)) return [];
  const out: (NewJournalEvent & { tick: number })[] = [];
  let map: unknown;
  let node: unknown;
  for (const row of parsed) {
    if (!Array.isArray(row)) continue;
    const [tick, rowMap, key, type, value, prev, millis, counter, rowNode] = row;
    // null: the same as the row before (see `append`).
    map = rowMap ?? map;
    node = rowNode ?? node;
    if (typeof tick !== "number" || typeof map !== "string" || typeof key !== "string" || !isEventType(type)) continue;
    const event: NewJournalEvent & { tick: number } = {
      tick, type, map, key, timestamp: { millis: Number(millis), counter: Number(counter), nodeId: String(node) },
    };
    const encodedValue = typeof value === "string" ? fromHex(value) : value;
    const encodedPrevious = typeof prev === "string" ? fromHex(prev) : prev;
    if (encodedValue instanceof Uint8Array) event.value = decodeValue(encodedValue);
    if (encodedPrevious instanceof Uint8Array) event.encodedPreviousValue = encodedPrevious;
    out.push(event);
  }
  return out;
}

/** Tick, map and key of each event of one journal_batch row (values left encoded; see `eventsOf`). */
function eventKeysOf(stored: unknown): { tick: number; map: string; key: string }[] {
  const parsed: unknown = stored instanceof Uint8Array ? decodeValue(stored) : typeof stored === "string" ? JSON.parse(stored) : undefined;
  if (!Array.isArray(parsed)) return [];
  const out: { tick: number; map: string; key: string }[] = [];
  let map: unknown;
  for (const row of parsed) {
    if (!Array.isArray(row)) continue;
    const [tick, rowMap, key] = row;
    map = rowMap ?? map;
    if (typeof tick === "number" && typeof map === "string" && typeof key === "string") out.push({ tick, map, key });
  }
  return out;
}

function isEventType(type: unknown): type is JournalEventType {
  return type === "PUT" || type === "UPDATE" || type === "DELETE";
}
