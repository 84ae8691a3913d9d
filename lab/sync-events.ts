// What the sync timeline draws: each device's writes, the server's acknowledgements and the changes that arrive
// from other devices, as they happen.

export type SyncEventKind = "write" | "ack" | "receive";

export interface SyncEvent {
  /** The device's name on the page ("this device", "Device A"). */
  device: string;
  kind: SyncEventKind;
  /** `performance.now()` when it happened. */
  atMs: number;
  /** A sentence about it ("Device A wrote title", "the server confirmed 2 writes"). */
  text: string;
}

/** Events kept; the timeline shows the last {@link TIMELINE_WINDOW_MS} of them. */
const MAX_EVENTS = 500;
export const TIMELINE_WINDOW_MS = 30_000;

/** The page's events, oldest first, shared by every device. */
export class SyncEventLog {
  readonly #events: SyncEvent[] = [];
  readonly #devices: string[] = [];
  readonly #listeners = new Set<() => void>();
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Gives `device` a lane, in the order devices join. */
  addDevice(device: string): void {
    if (!this.#devices.includes(device)) this.#devices.push(device);
    this.#emit();
  }

  get devices(): readonly string[] {
    return this.#devices;
  }

  record(device: string, kind: SyncEventKind, text: string): void {
    this.#events.push({ device, kind, atMs: this.#now(), text });
    if (this.#events.length > MAX_EVENTS) this.#events.splice(0, this.#events.length - MAX_EVENTS);
    this.#emit();
  }

  /** The events of the last `windowMs`, oldest first. */
  recent(windowMs = TIMELINE_WINDOW_MS): SyncEvent[] {
    const since = this.#now() - windowMs;
    return this.#events.filter((event) => event.atMs >= since);
  }

  now(): number {
    return this.#now();
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(): void {
    for (const listener of this.#listeners) listener();
  }
}
