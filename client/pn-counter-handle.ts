import type { ClientMessage } from "../core/protocol/message.ts";
import type { PNCounterState } from "../core/protocol/shared.ts";

/**
 * A positive-negative counter (PROTOCOL.md §11.3): each node counts its own increments and decrements, and
 * merging takes the larger count per node, so concurrent changes add up. The state lives in memory.
 */
export class PNCounterHandle {
  readonly name: string;
  readonly #nodeId: string;
  readonly #send: (message: ClientMessage) => boolean;
  readonly #listeners = new Set<(value: number) => void>();
  #state: PNCounterState = { p: {}, n: {} };

  constructor(name: string, nodeId: string, send: (message: ClientMessage) => boolean) {
    this.name = name;
    this.#nodeId = nodeId;
    this.#send = send;
    this.resume();
  }

  get(): number {
    return sum(this.#state.p) - sum(this.#state.n);
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

  /** On open and after AUTH_ACK: pushes local counts when there are any, else asks for the server's state. */
  resume(): void {
    const ownCounts = (this.#state.p[this.#nodeId] ?? 0) + (this.#state.n[this.#nodeId] ?? 0);
    if (ownCounts > 0) this.#send({ type: "COUNTER_SYNC", payload: { name: this.name, state: this.#state } });
    else this.#send({ type: "COUNTER_REQUEST", payload: { name: this.name } });
  }

  /** Merges a state from the server (max per node on each side). */
  merge(remote: PNCounterState): void {
    const before = this.get();
    this.#state = { p: mergeSide(this.#state.p, remote.p), n: mergeSide(this.#state.n, remote.n) };
    if (this.get() !== before) this.#notify();
  }

  #change(side: "p" | "n", by: number): number {
    if (!(Number.isFinite(by) && by > 0)) throw new RangeError(`counter step must be a positive number (got ${by})`);
    const counts = this.#state[side];
    counts[this.#nodeId] = (counts[this.#nodeId] ?? 0) + by;
    this.#send({ type: "COUNTER_SYNC", payload: { name: this.name, state: this.#state } });
    this.#notify();
    return this.get();
  }

  #notify(): void {
    const value = this.get();
    for (const listener of this.#listeners) listener(value);
  }
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((total, count) => total + count, 0);
}

function mergeSide(local: Record<string, number>, remote: Record<string, number>): Record<string, number> {
  const merged = { ...local };
  for (const [node, count] of Object.entries(remote)) merged[node] = Math.max(merged[node] ?? 0, count);
  return merged;
}
