import { openDB, type DBSchema, type IDBPDatabase } from "idb";
import type { PendingOp, StorageAdapter, StorageCommit, StoredEntry } from "./storage-adapter.ts";

/** The database name used when none is given. */
export const DEFAULT_IDB_NAME = "topgun";
const SCHEMA_VERSION = 1;

interface ClientDB extends DBSchema {
  records: { key: [string, string]; value: StoredEntry; indexes: { byMap: string } };
  ops: { key: number; value: PendingOp };
  meta: { key: string; value: unknown };
}

/** Options of an {@link IDBAdapter}. */
export interface IDBAdapterOptions {
  /** The IndexedDB database name; one per app or user, so clients on one origin stay apart. */
  databaseName?: string;
}

/** Persists client state in IndexedDB (through `idb`); each commit is one readwrite transaction. */
export class IDBAdapter implements StorageAdapter {
  readonly #db: Promise<IDBPDatabase<ClientDB>>;

  constructor(options: IDBAdapterOptions = {}) {
    this.#db = openDB<ClientDB>(options.databaseName ?? DEFAULT_IDB_NAME, SCHEMA_VERSION, {
      upgrade(db) {
        const records = db.createObjectStore("records", { keyPath: ["mapId", "key"] });
        records.createIndex("byMap", "mapId");
        db.createObjectStore("ops", { keyPath: "seq" });
        db.createObjectStore("meta");
      },
    });
  }

  async commit(commit: StorageCommit): Promise<void> {
    const db = await this.#db;
    const tx = db.transaction(["records", "ops", "meta"], "readwrite");
    const writes: Promise<unknown>[] = [];
    const records = tx.objectStore("records");
    for (const entry of commit.entries ?? []) writes.push(records.put(entry));
    for (const { mapId, key } of commit.deletes ?? []) writes.push(records.delete([mapId, key]));
    const ops = tx.objectStore("ops");
    for (const pending of commit.ops ?? []) writes.push(ops.put(pending));
    const meta = tx.objectStore("meta");
    for (const [key, value] of Object.entries(commit.meta ?? {})) writes.push(meta.put(value, key));
    await Promise.all([...writes, tx.done]);
  }

  async loadMap(mapId: string): Promise<StoredEntry[]> {
    const db = await this.#db;
    return db.getAllFromIndex("records", "byMap", mapId);
  }

  async clearMap(mapId: string): Promise<void> {
    const db = await this.#db;
    const tx = db.transaction("records", "readwrite");
    const keys = await tx.store.index("byMap").getAllKeys(mapId);
    await Promise.all([...keys.map((key) => tx.store.delete(key)), tx.done]);
  }

  async loadOps(): Promise<PendingOp[]> {
    const db = await this.#db;
    // Keys are numbers, so the store's key order is seq order.
    return db.getAll("ops");
  }

  async deleteOpsThrough(throughSeq: number): Promise<void> {
    const db = await this.#db;
    const tx = db.transaction("ops", "readwrite");
    const keys = await tx.store.getAllKeys();
    await Promise.all([...keys.filter((seq) => seq <= throughSeq).map((seq) => tx.store.delete(seq)), tx.done]);
  }

  async getMeta(key: string): Promise<unknown> {
    const db = await this.#db;
    return db.get("meta", key);
  }

  async close(): Promise<void> {
    (await this.#db).close();
  }
}
