/** A hybrid logical clock reading; on the wire always this map, never the string form. */
export interface Timestamp {
  millis: number;
  counter: number;
  nodeId: string;
}

/** How far ahead of the local clock a remote timestamp may be (TopGun's default). */
export const DEFAULT_MAX_DRIFT_MS = 60_000;

const MAX_COUNTER = 0xffffffff;
const DIGITS = /^\d+$/;

/**
 * Orders timestamps by millis, then counter, then node id in UTF-16 code-unit order. TopGun's TS uses
 * `localeCompare` for the node id, whose result depends on the runtime's locale data and ignores case
 * first; code-unit order is the same everywhere, matches Rust's byte order for ASCII, and agrees with
 * TopGun's TS for the lowercase ASCII ids that servers use.
 */
export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  if (a.millis !== b.millis) return a.millis < b.millis ? -1 : 1;
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  if (a.nodeId === b.nodeId) return 0;
  return a.nodeId < b.nodeId ? -1 : 1;
}

/** `"millis:counter:nodeId"`: the OR-Map tag of a timestamp and its form in hash inputs. */
export function timestampToString(ts: Timestamp): string {
  return `${ts.millis}:${ts.counter}:${ts.nodeId}`;
}

/**
 * Parses `"millis:counter:nodeId"` as Rust does: at most three parts, so the node id may contain ':'; it
 * must not be empty, and the counter must fit u32. Millis must be a safe integer (a u64 beyond 2^53 has
 * no exact Number). Anything else gives undefined, as do the non-HLC tags some clients invent.
 */
export function parseTimestamp(text: string): Timestamp | undefined {
  const first = text.indexOf(":");
  if (first < 0) return undefined;
  const second = text.indexOf(":", first + 1);
  if (second < 0) return undefined;
  const millisText = text.slice(0, first);
  const counterText = text.slice(first + 1, second);
  const nodeId = text.slice(second + 1);
  if (!DIGITS.test(millisText) || !DIGITS.test(counterText) || nodeId === "") return undefined;
  const millis = Number(millisText);
  const counter = Number(counterText);
  if (!Number.isSafeInteger(millis) || counter > MAX_COUNTER) return undefined;
  return { millis, counter, nodeId };
}

/** Thrown by a strict {@link HLC} when a remote timestamp is further ahead of the local clock than allowed. */
export class HLCDriftError extends Error {
  override readonly name = "HLCDriftError";
  /** How far the remote timestamp was ahead of the local clock. */
  readonly driftMs: number;

  constructor(driftMs: number, maxDriftMs: number) {
    super(`timestamp is ${driftMs} ms ahead of the local clock (limit ${maxDriftMs} ms)`);
    this.driftMs = driftMs;
  }
}

/** Options of an {@link HLC}. */
export interface HLCOptions {
  /** The wall clock in epoch milliseconds; `Date.now` by default. Tests inject a controllable one. */
  clock?: () => number;
  maxDriftMs?: number;
  /** Throw {@link HLCDriftError} from `update` on excessive drift instead of accepting the timestamp. */
  strict?: boolean;
}

/** A hybrid logical clock (PROTOCOL.md §4). */
export class HLC {
  readonly #nodeId: string;
  readonly #clock: () => number;
  readonly #maxDriftMs: number;
  readonly #strict: boolean;
  #lastMillis = 0;
  #lastCounter = 0;

  constructor(nodeId: string, options: HLCOptions = {}) {
    // The string form separates fields with ':', so an id containing one could not be parsed back by TS.
    if (nodeId.includes(":")) throw new Error(`HLC node id must not contain ':' (got "${nodeId}")`);
    this.#nodeId = nodeId;
    this.#clock = options.clock ?? Date.now;
    this.#maxDriftMs = options.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS;
    this.#strict = options.strict ?? false;
  }

  get nodeId(): string {
    return this.#nodeId;
  }

  get maxDriftMs(): number {
    return this.#maxDriftMs;
  }

  /** A new timestamp for a local event, greater than every timestamp this clock has produced or seen. */
  now(): Timestamp {
    const wall = this.#clock();
    if (wall > this.#lastMillis) {
      this.#lastMillis = wall;
      this.#lastCounter = 0;
    } else {
      // Same millisecond, or the wall clock went backwards: stay on the logical time and count up.
      this.#lastCounter++;
    }
    return { millis: this.#lastMillis, counter: this.#lastCounter, nodeId: this.#nodeId };
  }

  /**
   * Moves the clock past a received timestamp so later local events order after it. A timestamp more than
   * `maxDriftMs` ahead throws in strict mode and is accepted otherwise, as TopGun does.
   */
  update(remote: Timestamp): void {
    const remoteMillis = Number(remote.millis);
    const remoteCounter = Number(remote.counter);
    // TopGun's TS ignores malformed timestamps rather than poisoning the clock with NaN.
    if (!Number.isFinite(remoteMillis) || !Number.isFinite(remoteCounter)) return;
    const wall = this.#clock();
    const drift = remoteMillis - wall;
    if (this.#strict && drift > this.#maxDriftMs) throw new HLCDriftError(drift, this.#maxDriftMs);

    const next = Math.max(this.#lastMillis, wall, remoteMillis);
    if (next === this.#lastMillis && next === remoteMillis) {
      this.#lastCounter = Math.max(this.#lastCounter, remoteCounter) + 1;
    } else if (next === this.#lastMillis) {
      this.#lastCounter++;
    } else if (next === remoteMillis) {
      this.#lastCounter = remoteCounter + 1;
    } else {
      this.#lastCounter = 0;
    }
    this.#lastMillis = next;
  }

  /** True when `ts` is more than `maxDriftMs` ahead of `nowMs` (the wall clock by default). */
  isTooFarAhead(ts: Timestamp, nowMs: number = this.#clock()): boolean {
    return ts.millis - nowMs > this.#maxDriftMs;
  }
}
