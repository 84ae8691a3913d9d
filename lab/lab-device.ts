import { IDBAdapter, TopGunClient, type ConnectionState, type LWWMapHandle, type ORMapHandle } from "../client/index.ts";
import { deviceName, nameDevice } from "./device-names.ts";
import { NetworkSwitch } from "./network-switch.ts";
import type { SyncEventLog } from "./sync-events.ts";

/** What a device shows in its status line. */
export interface DeviceStatus {
  state: ConnectionState;
  online: boolean;
  pendingOps: number;
  /** Connection attempts since the last successful one. */
  reconnectAttempts: number;
}

export interface LabDeviceOptions {
  /** Shown on the page ("this device", "Device A"). */
  label: string;
  /** The IndexedDB database of this device: its records, op log, node id and clock. */
  databaseName: string;
  serverUrl: string;
  token: string | undefined;
  /** Where the device's writes, acknowledgements and received changes go, for the timeline. */
  events: SyncEventLog;
}

/**
 * One simulated device: its own TopGunClient, IndexedDB database and network switch, plus the status the
 * page shows for it. Reconnects quickly (the lab is about watching sync, not waiting out a long backoff), and at
 * once when its network switch goes back on, as an app does on the browser's `online` event.
 */
export class LabDevice {
  readonly label: string;
  readonly client: TopGunClient;
  readonly network: NetworkSwitch;
  readonly #storage: IDBAdapter;
  readonly #listeners = new Set<() => void>();
  readonly #events: SyncEventLog;
  #reconnectAttempts = 0;
  #attempted = false;

  constructor(options: LabDeviceOptions) {
    this.label = options.label;
    this.#events = options.events;
    this.#storage = new IDBAdapter({ databaseName: options.databaseName });
    this.network = new NetworkSwitch(`sync-lab:offline:${options.databaseName}`);
    this.client = new TopGunClient({
      serverUrl: options.serverUrl,
      storage: this.#storage,
      token: options.token,
      webSocketFactory: this.network.factory,
      backoff: { initialMs: 200, maxMs: 2_000, multiplier: 2, jitter: 0.2 },
    });
    this.client.onConnectionStateChange((state) => this.#onState(state));
    this.client.onOpsAcknowledged((ops) => {
      this.#events.record(this.label, "ack", `the server confirmed ${ops.length === 1 ? "a write" : `${ops.length} writes`} of ${this.label}`);
      this.#notify();
    });
    this.network.onChange((online) => {
      if (online) this.client.reconnect();
      this.#notify();
    });
    this.#events.addDevice(this.label);
  }

  /** Restores the device from IndexedDB and connects (unless its network switch is off). */
  async start(): Promise<void> {
    await this.client.start();
    nameDevice(this.client.nodeId, this.label);
    this.#notify();
  }

  get status(): DeviceStatus {
    return {
      state: this.client.getConnectionState(),
      online: this.network.online,
      pendingOps: this.client.getPendingOpCount(),
      reconnectAttempts: this.#reconnectAttempts,
    };
  }

  /** Calls `listener` whenever the status may have changed; returns the unsubscribe function. */
  onStatusChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Notes a local write (`what`, for the timeline), waits until it is in IndexedDB (and so counted as a pending
   * op), then refreshes the status.
   */
  async afterWrite(what: string): Promise<void> {
    this.#events.record(this.label, "write", `${this.label} ${what}`);
    await this.client.flush();
    this.#notify();
  }

  /** Notes every change of `map` that another device made, once its stored records are loaded. */
  watchMap<V>(map: LWWMapHandle<V>): void {
    void map.ready.then(() => {
      map.onChange((key) => {
        const record = key === undefined ? undefined : map.crdt.getRecord(key);
        if (record === undefined || record.timestamp.nodeId === this.client.nodeId) return;
        this.#events.record(this.label, "receive", `${this.label} received ${key ?? "a change"} from ${deviceName(record.timestamp.nodeId)}`);
      });
    });
  }

  /** Notes every value of `key` in `map` that another device added, once its stored records are loaded. */
  watchORMap<V>(map: ORMapHandle<V>, key: string): void {
    void map.ready.then(() => {
      const seen = new Set(map.crdt.getRecords(key).map((record) => record.tag));
      map.onChange(() => {
        for (const record of map.crdt.getRecords(key)) {
          if (seen.has(record.tag)) continue;
          seen.add(record.tag);
          if (record.timestamp.nodeId !== this.client.nodeId) {
            this.#events.record(this.label, "receive", `${this.label} received the tag ${String(record.value)} from ${deviceName(record.timestamp.nodeId)}`);
          }
        }
      });
    });
  }

  #onState(state: ConnectionState): void {
    if (state === "CONNECTED") {
      this.#reconnectAttempts = 0;
    } else if (state === "CONNECTING") {
      // The first attempt of a page is its connect; every later one is a reconnect.
      if (this.#attempted) this.#reconnectAttempts++;
      this.#attempted = true;
    }
    this.#notify();
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
