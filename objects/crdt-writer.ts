import { decodeValue, encodeValue } from "../core/codec.ts";
import type { HLC } from "../core/hlc.ts";
import type { ORMapRecord } from "../core/or-map.ts";
import { MAX_VALUE_BYTES } from "../core/limits.ts";
import type { LwwStore, LwwWrite } from "./lww-store.ts";
import type { MerkleStore } from "./merkle-store.ts";
import { isLwwOp, type LwwOwnerOp, type OrOwnerOp, type OwnerOp, type OwnerOpOutcome } from "./owner-api.ts";
import type { Outbox } from "./outbox.ts";
import type { OrStore } from "./or-store.ts";
import type { ChangeRow } from "./postgres-sink.ts";
import type { SqlPort } from "./sql-port.ts";
import type { JournalEventData } from "../core/protocol/shared.ts";
import type { JournalService, NewJournalEvent } from "./journal-service.ts";

/** An applied LWW write, in write order: the new value, or null for a tombstone (for live queries). */
export interface LwwChange {
  map: string;
  key: string;
  value: unknown;
}

/** The SERVER_EVENTs a write produced, per map and tree, for the fan-out. */
export interface MapEvents {
  map: string;
  tree: "lww" | "or";
  messages: unknown[];
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
   * every applied LWW change also appends a journal event (PUT/UPDATE/DELETE) there.
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

  apply(ops: readonly OwnerOp[]): {
    outcomes: OwnerOpOutcome[];
    events: MapEvents[];
    changes: LwwChange[];
    queued: number;
    journal: JournalEventData[];
  } {
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
    const queued: ChangeRow[] = [];
    let journal: JournalEventData[] = [];
    const eventsOf = (map: string, tree: "lww" | "or") => {
      const id = `${tree}\u0000${map}`;
      let entry = events.get(id);
      if (!entry) events.set(id, (entry = { map, tree, messages: [] }));
      return entry.messages;
    };
    try {
      this.#sql.transaction(() => {
        const journalEvents: NewJournalEvent[] = [];
        const { won, previous } = this.#lww.apply(lwwWrites, this.#journal !== undefined);
        const live = new Map<string, LiveValue>();
        for (const [id, encoded] of previous) live.set(id, { encoded });
        lwwOps.forEach((op, i) => {
          outcomes.push({ index: op.index, ok: true });
          if (!won[i]) return;
          changes.push({ map: op.map, key: op.key, value: op.record.value });
          if (this.#journal) journalEvents.push(journalEventOf(op, lwwWrites[i]?.encoded ?? null, live));
          const { timestamp, ttlMs } = op.record;
          queued.push({
            kind: "lww", map: op.map, key: op.key, value: lwwWrites[i]?.encoded ?? null,
            millis: timestamp.millis, counter: timestamp.counter, node: timestamp.nodeId, ...(ttlMs === undefined ? {} : { ttlMs }),
          });
          this.#hlc.update(op.record.timestamp);
          eventsOf(op.map, "lww").push({
            type: "SERVER_EVENT",
            payload: { mapName: op.map, eventType: op.type, key: op.key, record: op.record },
          });
        });
        for (const op of orOps) {
          outcomes.push({ index: op.index, ok: true });
          if (op.type === "OR_ADD") {
            if (!this.#or.add(op.map, op.key, op.record)) continue;
            this.#hlc.update(op.record.timestamp);
            queued.push(orAddRow(op.map, op.key, op.record));
            eventsOf(op.map, "or").push({
              type: "SERVER_EVENT",
              payload: { mapName: op.map, eventType: "OR_ADD", key: op.key, orRecord: op.record, orTag: op.record.tag },
            });
          } else if (this.#or.removeTag(op.map, op.key, op.tag)) {
            queued.push({ kind: "or-remove", map: op.map, key: op.key, tag: op.tag });
            eventsOf(op.map, "or").push({
              type: "SERVER_EVENT",
              payload: { mapName: op.map, eventType: "OR_REMOVE", key: op.key, orTag: op.tag },
            });
          }
        }
        if (this.#journal) journal = this.#journal.append(journalEvents);
        this.#outbox?.append(queued);
      });
    } catch (err) {
      // The transaction rolled back: the in-memory leaf sums may hold changes SQLite did not keep.
      this.#merkle.forget();
      this.#journal?.forget();
      throw err;
    }
    return { outcomes, events: [...events.values()], changes, queued: this.#outbox ? queued.length : 0, journal };
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
 * The journal event of an applied LWW write (`encoded`: its value, as stored); updates `live` (the keys' live values)
 * to after the write. Values travel encoded to the journal rows; a previous value is decoded once for the event.
 */
function journalEventOf(op: LwwOwnerOp, encoded: Uint8Array | null, live: Map<string, LiveValue>): NewJournalEvent {
  const id = `${op.map}\u0000${op.key}`;
  const before = live.get(id);
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
    if (!("value" in before)) before.value = decodeValue(before.encoded);
    event.previousValue = before.value;
    event.encodedPreviousValue = before.encoded;
  }
  if (op.record.value === null || !encoded) live.delete(id);
  else live.set(id, { encoded, value: op.record.value });
  return event;
}
