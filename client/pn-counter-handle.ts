import type { ClientMessage } from "../core/protocol/message.ts";
import type { PNCounterState } from "../core/protocol/shared.ts";

/** Where a counter's state is kept between reloads (the client's storage metadata). */
export interface CounterStore {
  load(name: string): Promise<unknown>;
  save(name: string, state: PNCounterState): void;
}

/**
 * A positive-negative counter (PROTOCOL.md §11.3): each node counts its own increments and decrements, and
 * merging takes the larger count per node, so concurrent changes add up. The state is kept in the client's storage:
 * this node's own counts survive a reload and go to the server after it (a fresh count of 0 would lose them, since
 * the server keeps the larger count). Changes made before the stored state is read are added on top of it.
 */
export class PNCounterHandle {
  readonly name: string;
  readonly #nodeId: string;
  readonly #send: (message: ClientMessage) => boolean;
  readonly #store: CounterStore | undefined;
  readonly #listeners = new Set<(value: number) => void>();
  #state: PNCounterState = { p: {}, n: {} };
  /** This node's changes made before the stored state was read (then folded into #state). */
  #early: { p: number; n: number } | undefined = { p: 0, n: 0 };
  /** Resolves once the stored state is merged (at once without a store). */
  readonly loaded: Promise<void>;

  constructor(name: string, nodeId: string, send: (message: ClientMessage) => boolean, store?: CounterStore) {
    this.name = name;
    this.#nodeId = nodeId;
    this.#send = send;
    this.#store = store;
    this.loaded = store ? this.#load(store) : Promise.resolve(this.#fold(undefined));
    this.resume();
  }

  get(): number {
    const early = this.#early ?? { p: 0, n: 0 };
    return sum(this.#state.p) + early.p - sum(this.#state.n) - early.n;
  }

  increment(by = 1): number {
    return this.#change("p", by);
  }

  decrement(by = 1): number {
    return this.#change("n", by);
  }

  /** Calls `listener` with the value now and after every change; returns the unsubscribe function. */
  subscribe(listener: (value: number) => void): () => void {
    this.#listeners.add(listener);
    listener(this.get());
    return () => this.#listeners.delete(listener);
  }

  /** On open and after AUTH_ACK: pushes local counts when there are any (once they are known), else asks for the server's state. */
  resume(): void {
    const ownCounts = (this.#state.p[this.#nodeId] ?? 0) + (this.#state.n[this.#nodeId] ?? 0);
    if (this.#early === undefined && ownCounts > 0) this.#send({ type: "COUNTER_SYNC", payload: { name: this.name, state: this.#state } });
    else this.#send({ type: "COUNTER_REQUEST", payload: { name: this.name } });
  }

  /** Merges a state from the server (max per node on each side). */
  merge(remote: PNCounterState): void {
    const before = this.get();
    this.#state = { p: mergeSide(this.#state.p, remote.p), n: mergeSide(this.#state.n, remote.n) };
    if (this.#early === undefined) this.#save();
    if (this.get() !== before) this.#notify();
  }

  #change(side: "p" | "n", by: number): number {
    if (!(Number.isFinite(by) && by > 0)) throw new RangeError(`counter step must be a positive number (got ${by})`);
    if (this.#early) {
      this.#early[side] += by;
    } else {
      const counts = this.#state[side];
      counts[this.#nodeId] = (counts[this.#nodeId] ?? 0) + by;
      this.#save();
      this.#send({ type: "COUNTER_SYNC", payload: { name: this.name, state: this.#state } });
    }
    this.#notify();
    return this.get();
  }

  async #load(store: CounterStore): Promise<void> {
    // The store reports its own failures; a state that cannot be read counts as none.
    const stored = await store.load(this.name).then(asCounterState, () => undefined);
    this.#fold(stored);
    const ownCounts = (this.#state.p[this.#nodeId] ?? 0) + (this.#state.n[this.#nodeId] ?? 0);
    if (ownCounts > 0) this.#send({ type: "COUNTER_SYNC", payload: { name: this.name, state: this.#state } });
    if (this.get() !== 0) this.#notify();
  }

  /** Merges the stored state, then adds the changes made before it was read; from now on changes apply directly. */
  #fold(stored: PNCounterState | undefined): void {
    const early = this.#early ?? { p: 0, n: 0 };
    this.#early = undefined;
    if (stored) this.#state = { p: mergeSide(this.#state.p, stored.p), n: mergeSide(this.#state.n, stored.n) };
    for (const side of ["p", "n"] as const) {
      if (early[side] > 0) this.#state[side][this.#nodeId] = (this.#state[side][this.#nodeId] ?? 0) + early[side];
    }
    if (stored || early.p > 0 || early.n > 0) this.#save();
  }

  /** Stores a copy (the state's count objects change in place). */
  #save(): void {
    this.#store?.save(this.name, { p: { ...this.#state.p }, n: { ...this.#state.n } });
  }

  #notify(): void {
    const value = this.get();
    for (const listener of this.#listeners) listener(value);
  }
}

/** A stored state, if it has the shape of one (anything else is ignored). */
function asCounterState(value: unknown): PNCounterState | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { p, n } = value as { p?: unknown; n?: unknown };
  return isCounts(p) && isCounts(n) ? { p, n } : undefined;
}

function isCounts(value: unknown): value is Record<string, number> {
  return typeof value === "object" && value !== null && Object.values(value).every((count) => typeof count === "number" && Number.isFinite(count));
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((total, count) => total + count, 0);
}

function mergeSide(local: Record<string, number>, remote: Record<string, number>): Record<string, number> {
  const merged = { ...local };
  for (const [node, count] of Object.entries(remote)) merged[node] = Math.max(merged[node] ?? 0, count);
  return merged;
}
