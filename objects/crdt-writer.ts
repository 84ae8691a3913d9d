import { encodeValue } from "../core/codec.ts";
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
        const previous = this.#journal ? this.#readPrevious(lwwWrites) : undefined;
        const journalEvents: NewJournalEvent[] = [];
        const won = this.#lww.apply(lwwWrites);
        lwwOps.forEach((op, i) => {
          outcomes.push({ index: op.index, ok: true });
          if (!won[i]) return;
          changes.push({ map: op.map, key: op.key, value: op.record.value });
          if (previous) journalEvents.push(journalEventOf(op, previous));
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
      throw err;
    }
    return { outcomes, events: [...events.values()], changes, queued: this.#outbox ? queued.length : 0, journal };
  }

  /** The live values the keys of `writes` hold now (tombstones left out), by map and key. */
  #readPrevious(writes: readonly LwwWrite[]): Map<string, unknown> {
    const keysByMap = new Map<string, Set<string>>();
    for (const w of writes) {
      const keys = keysByMap.get(w.map) ?? new Set<string>();
      keys.add(w.key);
      keysByMap.set(w.map, keys);
    }
    const live = new Map<string, unknown>();
    for (const [map, keys] of keysByMap) {
      for (const [key, record] of this.#lww.readKeys(map, [...keys])) {
        if (record.value !== null) live.set(`${map}\u0000${key}`, record.value);
      }
    }
    return live;
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

/** The journal event of an applied LWW write; updates `live` (the keys' live values) to after the write. */
function journalEventOf(op: LwwOwnerOp, live: Map<string, unknown>): NewJournalEvent {
  const id = `${op.map}\u0000${op.key}`;
  const had = live.has(id);
  const event: NewJournalEvent = {
    type: op.record.value === null ? "DELETE" : had ? "UPDATE" : "PUT",
    map: op.map,
    key: op.key,
    timestamp: op.record.timestamp,
  };
  if (op.record.value !== null) event.value = op.record.value;
  if (had) event.previousValue = live.get(id);
  if (op.record.value === null) live.delete(id);
  else live.set(id, op.record.value);
  return event;
}
