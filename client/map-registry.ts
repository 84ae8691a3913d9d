import type { HLC, Timestamp } from "../core/hlc.ts";
import type { ClientMessage, ServerMessage } from "../core/protocol/message.ts";
import type { ServerEventPayload } from "../core/protocol/ops.ts";
import type { ClientOp } from "../core/protocol/shared.ts";
import type { PendingOp, StorageAdapter } from "./storage/storage-adapter.ts";
import { LWWMapHandle } from "./lww-map-handle.ts";
import { handleLwwBuckets, handleLwwLeaf, handleLwwRoot, lwwSyncInit } from "./lww-sync.ts";
import type { MapContext } from "./map-context.ts";
import { ORMapHandle } from "./or-map-handle.ts";
import { handleOrBuckets, handleOrLeaf, handleOrRoot, orSyncInit } from "./or-map-sync.ts";
import type { WriteBuffer } from "./write-buffer.ts";

type AnyHandle = LWWMapHandle | ORMapHandle;

export interface MapRegistryOptions {
  hlc: HLC;
  storage: StorageAdapter;
  writes: WriteBuffer;
  context: MapContext;
  /** Sends when authenticated; false otherwise. */
  send(message: ClientMessage): boolean;
  isAuthenticated(): boolean;
  onStorageError(err: unknown): void;
  /** Follows the map's JSON Schema; resolves once its stored copy is in force. */
  watchSchema(mapName: string): Promise<void>;
}

/**
 * The open maps: loads each from storage once, starts its Merkle sync once per connection, and keeps
 * each map's lastSyncTimestamp.
 */
export class MapRegistry {
  readonly #options: MapRegistryOptions;
  readonly #lww = new Map<string, LWWMapHandle>();
  readonly #or = new Map<string, ORMapHandle>();
  readonly #loaded = new Set<AnyHandle>();
  readonly #syncedOnConnection = new Set<AnyHandle>();
  readonly #lastSync = new Map<string, number>();

  constructor(options: MapRegistryOptions) {
    this.#options = options;
  }

  lww(name: string): LWWMapHandle | undefined {
    return this.#lww.get(name);
  }

  or(name: string): ORMapHandle | undefined {
    return this.#or.get(name);
  }

  /** The LWW map `name`, opened (and loaded from storage in the background) on first use. */
  openLww(name: string): LWWMapHandle {
    let handle = this.#lww.get(name);
    if (handle === undefined) {
      handle = new LWWMapHandle(name, this.#options.hlc, this.#options.context, (h) => this.#load(h));
      this.#lww.set(name, handle);
    }
    return handle;
  }

  /** The OR map `name`, opened (and loaded from storage in the background) on first use. */
  openOr(name: string): ORMapHandle {
    let handle = this.#or.get(name);
    if (handle === undefined) {
      handle = new ORMapHandle(name, this.#options.hlc, this.#options.context, (h) => this.#load(h));
      this.#or.set(name, handle);
    }
    return handle;
  }

  all(): AnyHandle[] {
    return [...this.#lww.values(), ...this.#or.values()];
  }

  /** A new connection authenticated: every loaded map syncs again (maps still loading sync when loaded). */
  startConnection(): void {
    this.#syncedOnConnection.clear();
    for (const handle of this.#loaded) this.#sync(handle);
  }

  /** Records the server time seen in a root reply, which the next SYNC_INIT reports. */
  noteServerTime(handle: AnyHandle, timestamp: Timestamp): void {
    this.#options.hlc.update(timestamp);
    this.#lastSync.set(handle.mapId, timestamp.millis);
    this.#options.writes.setMeta(lastSyncKey(handle), timestamp.millis);
  }

  /**
   * SYNC_RESET_REQUIRED: forget the map's records, keep the writes still waiting in the op log, and sync
   * it from scratch.
   */
  async reset(name: string, pending: readonly PendingOp[]): Promise<void> {
    const handles: AnyHandle[] = [this.#lww.get(name), this.#or.get(name)].filter((h) => h !== undefined);
    await this.#options.writes.flush();
    for (const handle of handles) {
      handle.crdt.clear();
      await this.#options.storage.clearMap(handle.mapId);
      if (handle instanceof ORMapHandle) this.#options.writes.setMeta(handle.tombstonesKey, []);
      for (const { op } of pending) {
        if (op.mapName !== name) continue;
        if (handle instanceof LWWMapHandle && op.record) handle.mergeRemote(op.key, op.record);
        if (handle instanceof ORMapHandle && op.orRecord) handle.applyRemoteAdd(op.key, op.orRecord);
        if (handle instanceof ORMapHandle && typeof op.orTag === "string" && !op.orRecord) handle.applyRemoteRemove(op.key, op.orTag);
      }
      this.#lastSync.set(handle.mapId, 0);
      this.#options.writes.setMeta(lastSyncKey(handle), 0);
      this.#syncedOnConnection.delete(handle);
      this.#sync(handle);
    }
  }

  /**
   * OP_REJECTED: undoes a refused write here and in storage, then syncs the map again, which brings back what the
   * server holds: an LWW write only while it is still its key's record (a newer local write stays); an OR-Map add
   * is dropped (without a tombstone); an OR-Map remove loses its tombstone, so the removed value returns.
   */
  rollBack(op: ClientOp): void {
    let handle: AnyHandle | undefined;
    if (op.record && (op.opType === "PUT" || op.opType === "REMOVE")) {
      const lww = this.#lww.get(op.mapName);
      if (lww?.forgetRejected(op.key, op.record.timestamp)) handle = lww;
    } else if (op.opType === "OR_ADD" && op.orRecord) {
      const or = this.#or.get(op.mapName);
      if (or?.forgetRejected(op.orRecord.tag, true)) handle = or;
    } else if (op.opType === "OR_REMOVE" && typeof op.orTag === "string") {
      const or = this.#or.get(op.mapName);
      if (or?.forgetRejected(op.orTag, false)) handle = or;
    }
    if (handle === undefined) return;
    this.#syncedOnConnection.delete(handle);
    this.#sync(handle);
  }

  /** Handles the message if it is about map data or map sync; false otherwise. */
  dispatch(message: ServerMessage, pending: readonly PendingOp[]): boolean {
    const send = (reply: ClientMessage) => {
      this.#options.send(reply);
    };
    switch (message.type) {
      case "SERVER_EVENT":
        this.#applyEvent(message.payload);
        return true;
      case "SERVER_BATCH_EVENT":
        for (const event of message.payload.events) this.#applyEvent(event);
        return true;
      case "SYNC_RESP_ROOT": {
        const handle = this.lww(message.payload.mapName);
        if (handle === undefined) return true;
        this.noteServerTime(handle, message.payload.timestamp);
        handleLwwRoot(handle, message, send);
        return true;
      }
      case "SYNC_RESP_BUCKETS": {
        const handle = this.lww(message.payload.mapName);
        if (handle !== undefined) handleLwwBuckets(handle, message, send);
        return true;
      }
      case "SYNC_RESP_LEAF": {
        const handle = this.lww(message.payload.mapName);
        if (handle !== undefined) handleLwwLeaf(handle, message);
        return true;
      }
      case "ORMAP_SYNC_RESP_ROOT": {
        const handle = this.or(message.payload.mapName);
        if (handle === undefined) return true;
        this.noteServerTime(handle, message.payload.timestamp);
        handleOrRoot(handle, message, send);
        return true;
      }
      case "ORMAP_SYNC_RESP_BUCKETS": {
        const handle = this.or(message.payload.mapName);
        if (handle !== undefined) handleOrBuckets(handle, message, send);
        return true;
      }
      case "ORMAP_SYNC_RESP_LEAF": {
        const handle = this.or(message.payload.mapName);
        if (handle !== undefined) handleOrLeaf(handle, message, send);
        return true;
      }
      case "ORMAP_DIFF_RESPONSE": {
        const handle = this.or(message.payload.mapName);
        if (handle !== undefined) for (const entry of message.payload.entries) handle.mergeRemoteEntry(entry);
        return true;
      }
      case "SYNC_RESET_REQUIRED":
        this.reset(message.payload.mapName, pending).catch((err) => this.#options.onStorageError(err));
        return true;
      case "GC_PRUNE":
        for (const handle of this.all()) handle.prune(message.payload.olderThan);
        return true;
      default:
        return false;
    }
  }

  #applyEvent(event: ServerEventPayload): void {
    switch (event.eventType) {
      case "PUT":
      case "REMOVE":
        if (event.record) this.lww(event.mapName)?.mergeRemote(event.key, event.record);
        return;
      case "OR_ADD":
        if (event.orRecord) this.or(event.mapName)?.applyRemoteAdd(event.key, event.orRecord);
        return;
      case "OR_REMOVE":
        if (event.orTag !== undefined) this.or(event.mapName)?.applyRemoteRemove(event.key, event.orTag);
        return;
      default:
        assertNever(event.eventType);
    }
  }

  async #load(handle: AnyHandle): Promise<void> {
    try {
      const { storage } = this.#options;
      const [entries, lastSync] = await Promise.all([storage.loadMap(handle.mapId), storage.getMeta(lastSyncKey(handle)), this.#options.watchSchema(handle.name)]);
      if (handle instanceof LWWMapHandle) {
        for (const entry of entries) if (entry.value.kind === "lww") handle.mergeStored(entry.key, entry.value.record);
      } else {
        const tombstones = await storage.getMeta(handle.tombstonesKey);
        handle.restore(entries, isStringArray(tombstones) ? tombstones : []);
      }
      this.#lastSync.set(handle.mapId, typeof lastSync === "number" ? lastSync : 0);
    } catch (err) {
      this.#options.onStorageError(err);
    }
    this.#loaded.add(handle);
    this.#sync(handle);
  }

  #sync(handle: AnyHandle): void {
    if (!this.#options.isAuthenticated() || this.#syncedOnConnection.has(handle) || !this.#loaded.has(handle)) return;
    this.#syncedOnConnection.add(handle);
    const lastSync = this.#lastSync.get(handle.mapId) ?? 0;
    this.#options.send(handle instanceof LWWMapHandle ? lwwSyncInit(handle, lastSync) : orSyncInit(handle, lastSync));
  }
}

function lastSyncKey(handle: AnyHandle): string {
  return `lastSync:${handle.mapId}`;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function assertNever(value: never): never {
  throw new Error(`unhandled case ${String(value)}`);
}
