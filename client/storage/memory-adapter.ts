import type { PendingOp, StorageAdapter, StorageCommit, StoredEntry } from "./storage-adapter.ts";

/**
 * Keeps everything in memory. Survives a "reload" only when the same instance is handed to the next
 * client, which is what tests and server-side scripts need.
 */
export class MemoryAdapter implements StorageAdapter {
  readonly #maps = new Map<string, Map<string, StoredEntry>>();
  readonly #ops = new Map<number, PendingOp>();
  readonly #meta = new Map<string, unknown>();

  async commit(commit: StorageCommit): Promise<void> {
    for (const entry of commit.entries ?? []) this.#mapOf(entry.mapId).set(entry.key, entry);
    for (const { mapId, key } of commit.deletes ?? []) this.#maps.get(mapId)?.delete(key);
    for (const pending of commit.ops ?? []) this.#ops.set(pending.seq, pending);
    for (const [key, value] of Object.entries(commit.meta ?? {})) this.#meta.set(key, value);
  }

  async loadMap(mapId: string): Promise<StoredEntry[]> {
    return [...(this.#maps.get(mapId)?.values() ?? [])];
  }

  async clearMap(mapId: string): Promise<void> {
    this.#maps.delete(mapId);
  }

  async loadOps(): Promise<PendingOp[]> {
    return [...this.#ops.values()].sort((a, b) => a.seq - b.seq);
  }

  async deleteOpsThrough(throughSeq: number): Promise<void> {
    for (const seq of this.#ops.keys()) if (seq <= throughSeq) this.#ops.delete(seq);
  }

  async getMeta(key: string): Promise<unknown> {
    return this.#meta.get(key);
  }

  async close(): Promise<void> {
    // Nothing to release: the data must stay readable for the next client on this instance.
  }

  #mapOf(mapId: string): Map<string, StoredEntry> {
    let map = this.#maps.get(mapId);
    if (map === undefined) {
      map = new Map();
      this.#maps.set(mapId, map);
    }
    return map;
  }
}
