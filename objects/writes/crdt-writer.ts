import { decodeValue, encodeValue } from "../../core/codec.ts";
import { compareTimestamps, type HLC, type Timestamp } from "../../core/hlc.ts";
import type { ORMapEntry, ORMapRecord } from "../../core/or-record.ts";
import { MAX_VALUE_BYTES } from "../../core/limits.ts";
import type { LwwStore, LwwWrite } from "./lww-store.ts";
import type { MerkleStore } from "./merkle-store.ts";
import { isLwwOp, type LwwOwnerOp, type OrOwnerOp, type OwnerOp, type OwnerOpOutcome } from "./owner-op.ts";
import type { Outbox } from "../persistence/outbox.ts";
import type { OrStore } from "./or-store.ts";
import type { ChangeRow } from "../persistence/postgres-sink.ts";
import type { SqlPort } from "../storage/sql-port.ts";
import type { JournalEventData } from "../../core/protocol/shared.ts";
import type { JournalService, NewJournalEvent } from "../journal/journal-service.ts";
import { OrJournal } from "./or-journal.ts";

/** An applied LWW write, in write order: the new value, or null for a tombstone (for live queries). */
export interface LwwChange {
  map: string;
  key: string;
  value: unknown;
  /** For a tombstone: the live value it deleted (absent when the key held none), which a query's LEAVE carries. */
  previous?: unknown;
  /** For a value with a `ttlMs`: when it expires (timestamp millis + ttlMs); readers hide it after that. */
  expiresAt?: number;
}

/** What a commit produced, for the owner to publish: outcomes, events, live changes, outbox rows, journal events. */
export interface AppliedWrite {
  outcomes: OwnerOpOutcome[];
  events: MapEvents[];
  changes: LwwChange[];
  /** OR-Map keys whose records changed (search indexes their values). */
  orKeys?: { map: string; key: string }[];
  queued: number;
  journal: JournalEventData[];
}

/** The SERVER_EVENTs a write produced, per map and tree, for the fan-out. */
export interface MapEvents {
  map: string;
  tree: "lww" | "or";
  messages: unknown[];
  /** The op (its `index`) each message came from, message by message (a coalesced call fans out per writer). */
  origins?: number[];
}

/**
 * Owner role, write path: merges a batch of ops into SQLite in one transaction (records, Merkle sums) and
 * returns per-op outcomes and the events to fan out. The client's timestamps are kept (never restamped).
 */
export class CrdtWriter {
  readonly #sql: SqlPort;
  readonly #lww: LwwStore;
  readonly #or: OrStore;
  readonly #merkle: MerkleStore;
  readonly #hlc: HLC;
  readonly #outbox: Outbox | undefined;
  readonly #journal: JournalService | undefined;

  /**
   * With an `outbox`, every applied change is also queued for Postgres in the same transaction; with a `journal`,
   * every applied change (LWW, and OR-Map per changed key: or-journal.ts) also appends a journal event there.
   */
  constructor(deps: { sql: SqlPort; lww: LwwStore; or: OrStore; merkle: MerkleStore; hlc: HLC; outbox?: Outbox; journal?: JournalService }) {
    this.#sql = deps.sql;
    this.#lww = deps.lww;
    this.#or = deps.or;
    this.#merkle = deps.merkle;
    this.#hlc = deps.hlc;
    this.#outbox = deps.outbox;
    this.#journal = deps.journal;
  }

  apply(ops: readonly OwnerOp[]): AppliedWrite {
    const outcomes: OwnerOpOutcome[] = [];
    const lwwWrites: LwwWrite[] = [];
    const lwwOps: LwwOwnerOp[] = [];
    const orOps: OrOwnerOp[] = [];
    for (const op of ops) {
      if (isLwwOp(op)) {
        const encoded = op.record.value === null ? null : encodeValue(op.record.value);
        if (encoded && encoded.byteLength > MAX_VALUE_BYTES) {
          outcomes.push({ index: op.index, ok: false, kind: "TOO_LARGE", message: `value exceeds ${MAX_VALUE_BYTES} bytes` });
          continue;
        }
        lwwOps.push(op);
        lwwWrites.push({ map: op.map, key: op.key, record: op.record, encoded });
      } else {
        if (op.type === "OR_ADD" && encodeValue(op.record.value).byteLength > MAX_VALUE_BYTES) {
          outcomes.push({ index: op.index, ok: false, kind: "TOO_LARGE", message: `value exceeds ${MAX_VALUE_BYTES} bytes` });
          continue;
        }
        orOps.push(op);
      }
    }
    const events = new Map<string, MapEvents>();
    const changes: LwwChange[] = [];
    const orKeys: { map: string; key: string }[] = [];
    const queued: ChangeRow[] = [];
    let journal: JournalEventData[] = [];
    const eventOf = (op: OwnerOp, tree: "lww" | "or", message: unknown) => {
      const id = `${tree}\u0000${op.map}`;
      let entry = events.get(id);
      if (!entry) events.set(id, (entry = { map: op.map, tree, messages: [], origins: [] }));
      entry.messages.push(message);
      entry.origins?.push(op.index);
    };
    try {
      this.#sql.transaction(() => {
        const journalEvents: NewJournalEvent[] = [];
        // Previous values: for the journal, and for a delete's query LEAVE (which carries the value it removed).
        const withPrevious = this.#journal !== undefined || lwwWrites.some((w) => w.record.value === null);
        const { won, previous } = this.#lww.apply(lwwWrites, withPrevious);
        const live = new LiveValues(previous);
        lwwOps.forEach((op, i) => {
          outcomes.push({ index: op.index, ok: true });
          if (!won[i]) return;
          const encoded = lwwWrites[i]?.encoded ?? null;
          const change: LwwChange = { map: op.map, key: op.key, value: op.record.value };
          const before = live.get(op.map, op.key);
          if (op.record.value === null && before) change.previous = valueOf(before);
          if (op.record.value !== null && op.record.ttlMs) change.expiresAt = op.record.timestamp.millis + op.record.ttlMs;
          changes.push(change);
          if (this.#journal) journalEvents.push(journalEventOf(op, encoded, live));
          else live.written(op.map, op.key, encoded, op.record.value);
          const { timestamp, ttlMs } = op.record;
          // Outbox rows only when there is an outbox (Postgres write-through configured).
          if (this.#outbox) {
            queued.push({
              kind: "lww", map: op.map, key: op.key, value: encoded,
              millis: timestamp.millis, counter: timestamp.counter, node: timestamp.nodeId, ...(ttlMs === undefined ? {} : { ttlMs }),
            });
          }
          this.#hlc.update(op.record.timestamp);
          eventOf(op, "lww", {
            type: "SERVER_EVENT",
            payload: { mapName: op.map, eventType: op.type, key: op.key, record: op.record },
          });
        });
        const orJournal = this.#journal ? new OrJournal(this.#or) : undefined;
        for (const op of orOps) {
          outcomes.push({ index: op.index, ok: true });
          const event = this.#applyOr(op, orJournal);
          if (!event) continue;
          orKeys.push(...event.keys.map((key) => ({ map: op.map, key })));
          queued.push(event.row);
          eventOf(op, "or", event.message);
        }
        if (this.#journal) journal = this.#journal.append([...journalEvents, ...(orJournal?.events ?? [])]);
        this.#outbox?.append(queued);
      });
    } catch (err) {
      // The transaction rolled back: the in-memory leaf sums and heads may hold changes SQLite did not keep.
      this.#merkle.forget();
      this.#lww.forget();
      this.#journal?.forget();
      throw err;
    }
    return { outcomes, events: [...events.values()], changes, orKeys, queued: this.#outbox ? queued.length : 0, journal };
  }

  /** Applies one OR-Map op; answers its outbox row, SERVER_EVENT and changed keys, or undefined when it changed nothing. */
  #applyOr(op: OrOwnerOp, orJournal: OrJournal | undefined): { row: ChangeRow; message: unknown; keys: string[] } | undefined {
    if (op.type === "OR_ADD") {
      orJournal?.before(op.map, [op.key]);
      if (!this.#or.add(op.map, op.key, op.record)) return undefined;
      this.#hlc.update(op.record.timestamp);
      orJournal?.after(op.map, [op.key], op.record.timestamp);
      return {
        keys: [op.key],
        row: orAddRow(op.map, op.key, op.record),
        message: { type: "SERVER_EVENT", payload: { mapName: op.map, eventType: "OR_ADD", key: op.key, orRecord: op.record, orTag: op.record.tag } },
      };
    }
    const holders = orJournal ? [op.key, ...this.#or.keysHoldingTags(op.map, [op.tag])] : [];
    orJournal?.before(op.map, holders);
    if (!this.#or.removeTag(op.map, op.key, op.tag)) return undefined;
    // An OR_REMOVE carries no timestamp: the journal stamps it with the owner's clock.
    if (orJournal) orJournal.after(op.map, holders, this.#hlc.now());
    return {
      keys: holders.length > 0 ? [...new Set(holders)] : [op.key],
      row: { kind: "or-remove", map: op.map, key: op.key, tag: op.tag },
      message: { type: "SERVER_EVENT", payload: { mapName: op.map, eventType: "OR_REMOVE", key: op.key, orTag: op.tag } },
    };
  }

  /**
   * ORMAP_PUSH_DIFF: merges pushed entries (mergeKey: remote tombstones, then every record whose tag survives) in one
   * transaction, with the outbox rows, journal events and SERVER_EVENTs (OR_ADD / OR_REMOVE) of what changed.
   */
  mergeOrEntries(map: string, entries: readonly ORMapEntry[]): AppliedWrite {
    const messages: unknown[] = [];
    const queued: ChangeRow[] = [];
    const orKeys = new Set<string>();
    let journal: JournalEventData[] = [];
    try {
      this.#sql.transaction(() => {
        const orJournal = this.#journal ? new OrJournal(this.#or) : undefined;
        for (const entry of entries) {
          orJournal?.before(map, [entry.key, ...this.#or.keysHoldingTags(map, entry.tombstones)]);
          const change = this.#or.mergeEntry(map, entry);
          for (const key of change.touched) orKeys.add(key);
          const newest = change.added.map((r) => r.timestamp).reduce<Timestamp | undefined>(
            (max, t) => (max === undefined || compareTimestamps(t, max) > 0 ? t : max),
            undefined,
          );
          orJournal?.after(map, change.touched, newest ?? this.#hlc.now());
          queued.push(...change.added.map((record) => orAddRow(map, entry.key, record)));
          queued.push(...change.removedTags.map((tag): ChangeRow => ({ kind: "or-remove", map, key: entry.key, tag })));
          for (const record of change.added) {
            messages.push({
              type: "SERVER_EVENT",
              payload: { mapName: map, eventType: "OR_ADD", key: entry.key, orRecord: record, orTag: record.tag },
            });
          }
          for (const tag of change.removedTags) {
            messages.push({ type: "SERVER_EVENT", payload: { mapName: map, eventType: "OR_REMOVE", key: entry.key, orTag: tag } });
          }
        }
        if (this.#journal && orJournal) journal = this.#journal.append(orJournal.events);
        this.#outbox?.append(queued);
      });
    } catch (err) {
      this.#merkle.forget();
      this.#lww.forget();
      this.#journal?.forget();
      throw err;
    }
    const events: MapEvents[] = messages.length > 0 ? [{ map, tree: "or", messages }] : [];
    const keys = [...orKeys].map((key) => ({ map, key }));
    return { outcomes: [], events, changes: [], orKeys: keys, queued: this.#outbox ? queued.length : 0, journal };
  }
}

/** The outbox row of an applied OR-Map add. */
export function orAddRow(map: string, key: string, record: ORMapRecord): ChangeRow {
  const { timestamp, ttlMs } = record;
  return {
    kind: "or-add", map, key, tag: record.tag, value: encodeValue(record.value),
    millis: timestamp.millis, counter: timestamp.counter, node: timestamp.nodeId, ...(ttlMs === undefined ? {} : { ttlMs }),
  };
}

/** A key's live value during a batch: encoded, and decoded once when a journal event needs it. */
interface LiveValue {
  encoded: Uint8Array;
  value?: unknown;
}

/**
 * The live value of each key a batch touches, by map then key (no `map\0key` string per op): seeded with the values
 * the keys held before the batch, moved forward by each applied write.
 */
class LiveValues {
  readonly #byMap = new Map<string, Map<string, LiveValue>>();

  constructor(previous: ReadonlyMap<string, ReadonlyMap<string, Uint8Array>>) {
    for (const [map, values] of previous) {
      const live = new Map<string, LiveValue>();
      for (const [key, encoded] of values) live.set(key, { encoded });
      this.#byMap.set(map, live);
    }
  }

  get(map: string, key: string): LiveValue | undefined {
    return this.#byMap.get(map)?.get(key);
  }

  /** After a write of `key`: its encoded value and value, or none for a tombstone. */
  written(map: string, key: string, encoded: Uint8Array | null, value: unknown): void {
    let live = this.#byMap.get(map);
    if (!live) this.#byMap.set(map, (live = new Map()));
    if (value === null || !encoded) live.delete(key);
    else live.set(key, { encoded, value });
  }
}

/** A live value, decoded at most once. */
function valueOf(live: LiveValue): unknown {
  if (!("value" in live)) live.value = decodeValue(live.encoded);
  return live.value;
}

/**
 * The journal event of an applied LWW write (`encoded`: its value, as stored); updates `live` (the keys' live values)
 * to after the write. Values travel encoded to the journal rows.
 */
function journalEventOf(op: LwwOwnerOp, encoded: Uint8Array | null, live: LiveValues): NewJournalEvent {
  const before = live.get(op.map, op.key);
  const event: NewJournalEvent = {
    type: op.record.value === null ? "DELETE" : before ? "UPDATE" : "PUT",
    map: op.map,
    key: op.key,
    timestamp: op.record.timestamp,
  };
  if (op.record.value !== null && encoded) {
    event.value = op.record.value;
    event.encodedValue = encoded;
  }
  if (before) {
    // Decoded by the journal only when someone subscribes; a value decoded earlier in the batch is passed on.
    if ("value" in before) event.previousValue = before.value;
    event.encodedPreviousValue = before.encoded;
  }
  live.written(op.map, op.key, encoded, op.record.value);
  return event;
}
