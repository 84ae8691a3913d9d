import type { PendingOp, StorageAdapter, StorageCommit, StoredEntry } from "./storage/storage-adapter.ts";

/** Called after a commit is durable, with the ops it stored, or with the error that lost it. */
export interface WriteBufferHandlers {
  onStored(ops: PendingOp[]): void;
  onError(error: unknown): void;
}

/**
 * Gathers the writes of one turn of the event loop into one storage commit, one commit at a time, so a
 * burst of `set()` calls costs one transaction instead of one each. Later writes to a key replace earlier
 * ones still waiting.
 */
export class WriteBuffer {
  readonly #storage: StorageAdapter;
  readonly #handlers: WriteBufferHandlers;
  #entries = new Map<string, { mapId: string; key: string; entry: StoredEntry | null }>();
  #ops: PendingOp[] = [];
  #meta: Record<string, unknown> = {};
  #scheduled = false;
  #running: Promise<void> = Promise.resolve();

  constructor(storage: StorageAdapter, handlers: WriteBufferHandlers) {
    this.#storage = storage;
    this.#handlers = handlers;
  }

  put(entry: StoredEntry): void {
    this.#entries.set(`${entry.mapId}\u0000${entry.key}`, { mapId: entry.mapId, key: entry.key, entry });
    this.#schedule();
  }

  delete(mapId: string, key: string): void {
    this.#entries.set(`${mapId}\u0000${key}`, { mapId, key, entry: null });
    this.#schedule();
  }

  addOp(op: PendingOp): void {
    this.#ops.push(op);
    this.#schedule();
  }

  setMeta(key: string, value: unknown): void {
    this.#meta[key] = value;
    this.#schedule();
  }

  /** Resolves when everything written so far is stored. */
  async flush(): Promise<void> {
    do {
      this.#startCommit();
      await this.#running;
    } while (this.#scheduled);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#startCommit());
  }

  #startCommit(): void {
    if (!this.#scheduled) return;
    this.#scheduled = false;
    const commit: StorageCommit = { entries: [], deletes: [], ops: this.#ops, meta: this.#meta };
    for (const { mapId, key, entry } of this.#entries.values()) {
      if (entry === null) commit.deletes?.push({ mapId, key });
      else commit.entries?.push(entry);
    }
    const ops = this.#ops;
    this.#entries = new Map();
    this.#ops = [];
    this.#meta = {};
    this.#running = this.#running.then(async () => {
      try {
        await this.#storage.commit(commit);
        this.#handlers.onStored(ops);
      } catch (err) {
        this.#handlers.onError(err);
      }
    });
  }
}
