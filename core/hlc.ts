/** A hybrid logical clock timestamp (wire form). */
export interface Timestamp {
  millis: number;
  counter: number;
  nodeId: string;
}

export const DEFAULT_MAX_DRIFT_MS = 60_000;

/**
 * Orders by millis, counter, then node id by UTF-16 code units. TopGun's TS uses localeCompare, which depends on
 * the locale; code-unit order is deterministic and agrees with it for lowercase ASCII ids (PROTOCOL.md §4).
 */
export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  if (a.millis !== b.millis) return a.millis < b.millis ? -1 : 1;
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  if (a.nodeId === b.nodeId) return 0;
  return a.nodeId < b.nodeId ? -1 : 1;
}

/** "millis:counter:nodeId", the form used for OR-Map tags and hash inputs. */
export function timestampToString(ts: Timestamp): string {
  return `${ts.millis}:${ts.counter}:${ts.nodeId}`;
}

/** Parses "millis:counter:nodeId" (a `:` may appear inside nodeId); undefined when malformed. */
export function parseTimestamp(text: string): Timestamp | undefined {
  const first = text.indexOf(":");
  const second = first < 0 ? -1 : text.indexOf(":", first + 1);
  if (second < 0) return undefined;
  const millis = Number(text.slice(0, first));
  const counter = Number(text.slice(first + 1, second));
  const nodeId = text.slice(second + 1);
  if (!Number.isSafeInteger(millis) || millis < 0 || !Number.isInteger(counter) || counter < 0 || !nodeId) return undefined;
  return { millis, counter, nodeId };
}

/** Thrown by a strict HLC when a remote timestamp is too far ahead of the local clock. */
export class HLCDriftError extends Error {
  constructor(readonly driftMs: number) {
    super(`timestamp is ${driftMs} ms ahead of the local clock`);
    this.name = "HLCDriftError";
  }
}

/** A hybrid logical clock (PROTOCOL.md §4) with an injectable wall clock. */
export class HLC {
  readonly #nodeId: string;
  readonly #clock: () => number;
  readonly #maxDriftMs: number;
  readonly #strict: boolean;
  #lastMillis = 0;
  #lastCounter = 0;

  constructor(nodeId: string, options: { clock?: () => number; maxDriftMs?: number; strict?: boolean } = {}) {
    if (nodeId.includes(":")) throw new Error("HLC node id must not contain ':'");
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

  /** A timestamp for a local event. */
  now(): Timestamp {
    const wall = this.#clock();
    if (wall > this.#lastMillis) {
      this.#lastMillis = wall;
      this.#lastCounter = 0;
    } else {
      this.#lastCounter++;
    }
    return { millis: this.#lastMillis, counter: this.#lastCounter, nodeId: this.#nodeId };
  }

  /** Advances the clock past a received timestamp. */
  update(remote: Timestamp): void {
    const millis = Number(remote.millis);
    const counter = Number(remote.counter);
    if (!Number.isFinite(millis) || !Number.isFinite(counter)) return;
    const wall = this.#clock();
    if (millis - wall > this.#maxDriftMs && this.#strict) throw new HLCDriftError(millis - wall);
    const max = Math.max(this.#lastMillis, wall, millis);
    if (max === this.#lastMillis && max === millis) this.#lastCounter = Math.max(this.#lastCounter, counter) + 1;
    else if (max === this.#lastMillis) this.#lastCounter++;
    else if (max === millis) this.#lastCounter = counter + 1;
    else this.#lastCounter = 0;
    this.#lastMillis = max;
  }

  /** True when `ts` is more than the drift limit ahead of the wall clock. */
  isTooFarAhead(ts: Timestamp, nowMs: number = this.#clock()): boolean {
    return ts.millis - nowMs > this.#maxDriftMs;
  }
}
