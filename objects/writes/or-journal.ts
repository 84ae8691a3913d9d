import { compareTimestamps, type Timestamp } from "../../core/hlc.ts";
import type { ORMapRecord } from "../../core/or-record.ts";
import type { NewJournalEvent } from "../journal/journal-service.ts";
import type { OrStore } from "./or-store.ts";

interface KeyState {
  values: unknown[];
  /** The key's (tag, timestamp) set: values only change with it, so comparing it tells whether the key changed. */
  signature: string;
}

/**
 * Journal events of OR-Map changes (PROTOCOL.md Part A 11: every change appends an event). An OR-Map key holds a set
 * of values, so an event carries the key's values after the change (`value`, oldest add first) and before it
 * (`previousValue`): PUT when the key had no values, DELETE when it has none left, UPDATE otherwise. Used inside the
 * write's transaction: `before` reads the keys an op may change (once per batch), `after` compares and records one
 * event per key that changed.
 */
export class OrJournal {
  readonly #or: Pick<OrStore, "readKeys">;
  readonly #known = new Map<string, KeyState>();
  readonly events: NewJournalEvent[] = [];

  constructor(or: Pick<OrStore, "readKeys">) {
    this.#or = or;
  }

  /** Reads the current values of the keys not seen yet in this batch; call before the change. */
  before(map: string, keys: readonly string[]): void {
    const unseen = [...new Set(keys)].filter((key) => !this.#known.has(idOf(map, key)));
    if (unseen.length === 0) return;
    for (const entry of this.#or.readKeys(map, unseen)) this.#known.set(idOf(map, entry.key), stateOf(entry.records));
  }

  /** Records an event for each of `keys` whose records differ from before; `timestamp` is the change's. */
  after(map: string, keys: readonly string[], timestamp: Timestamp): void {
    const unique = [...new Set(keys)];
    for (const entry of this.#or.readKeys(map, unique)) {
      const id = idOf(map, entry.key);
      const previous = this.#known.get(id) ?? { values: [], signature: "" };
      const current = stateOf(entry.records);
      if (current.signature === previous.signature) continue;
      this.#known.set(id, current);
      const had = previous.values.length > 0;
      const has = current.values.length > 0;
      const event: NewJournalEvent = { type: !had ? "PUT" : has ? "UPDATE" : "DELETE", map, key: entry.key, timestamp };
      if (has) event.value = current.values;
      if (had) event.previousValue = previous.values;
      this.events.push(event);
    }
  }
}

function idOf(map: string, key: string): string {
  return `${map}\u0000${key}`;
}

function stateOf(records: readonly ORMapRecord[]): KeyState {
  const ordered = [...records].sort((a, b) => compareTimestamps(a.timestamp, b.timestamp) || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return {
    values: ordered.map((r) => r.value),
    signature: JSON.stringify(ordered.map((r) => [r.tag, r.timestamp.millis, r.timestamp.counter, r.timestamp.nodeId])),
  };
}
