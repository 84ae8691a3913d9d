import type { Timestamp } from "../core/hlc.ts";
import type { ClientOp } from "../core/protocol/shared.ts";
import type { StoredEntry } from "./storage/storage-adapter.ts";

/** What a map handle needs from its client: durable local writes and change storage, nothing else. */
export interface MapContext {
  /**
   * Stores `entry` and appends `op` to the op log in the same commit; the op is sent once stored.
   * `timestamp` is the new HLC reading the write made, if it made one.
   */
  write(entry: StoredEntry, op: Omit<ClientOp, "id">, timestamp?: Timestamp): void;
  /** Stores an entry received from the server (no op). */
  store(entry: StoredEntry): void;
  /** Deletes a stored entry (pruned tombstones). */
  unstore(mapId: string, key: string): void;
  /** Stores small per-map metadata (OR-Map tombstones). */
  storeMeta(key: string, value: unknown): void;
  /** Throws SchemaViolationError when `value` breaks the map's JSON Schema; called before a write is applied. */
  conform(mapName: string, value: unknown): void;
}

/** Calls `listener` once per turn of the event loop however many changes happened in it. */
export function coalesced(listener: () => void): () => void {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      listener();
    });
  };
}
