import { IDBAdapter, TopGunClient, type ConnectionState } from "../client/index.ts";
import { NetworkSwitch } from "./network-switch.ts";

/** What a device shows in its status line. */
export interface DeviceStatus {
  state: ConnectionState;
  online: boolean;
  pendingOps: number;
  /** Connection attempts since the last successful one. */
  reconnectAttempts: number;
}

export interface LabDeviceOptions {
  /** Shown on the page ("This device", "Device A"). */
  label: string;
  /** The IndexedDB database of this device: its records, op log, node id and clock. */
  databaseName: string;
  serverUrl: string;
  token: string | undefined;
}

/**
 * One simulated device: its own TopGunClient, IndexedDB database and network switch, plus the status the
 * page shows for it. Reconnects quickly (the lab is about watching sync, not waiting out a long backoff).
 */
export class LabDevice {
  readonly label: string;
  readonly client: TopGunClient;
  readonly network: NetworkSwitch;
  readonly #storage: IDBAdapter;
  readonly #listeners = new Set<() => void>();
  #reconnectAttempts = 0;
  #attempted = false;

  constructor(options: LabDeviceOptions) {
    this.label = options.label;
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
    this.client.onOpsAcknowledged(() => this.#notify());
    this.network.onChange(() => this.#notify());
  }

  /** Restores the device from IndexedDB and connects (unless its network switch is off). */
  async start(): Promise<void> {
    await this.client.start();
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

  /** Waits until local writes are in IndexedDB (and so counted as pending ops), then refreshes the status. */
  async afterWrite(): Promise<void> {
    await this.client.flush();
    this.#notify();
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
