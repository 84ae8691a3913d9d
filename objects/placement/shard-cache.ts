import { overlayShards, type ShardConfig, type ShardSnapshot } from "../../core/placement.ts";

/** How long a partition trusts its copy of the shard counts before asking the control object again. */
export const SHARD_REFRESH_MS = 1_000;
/** After a failed refresh, how soon to try again (the old copy keeps serving meanwhile). */
const RETRY_AFTER_FAILURE_MS = 250;

/**
 * A home's copy of its namespace's shard counts over the deployment's defaults. `config()` answers at once from the
 * copy (every coordinator places keys with it); `ready()` refreshes the copy when it is older than SHARD_REFRESH_MS
 * (the session awaits it before each message, which waits only while there is no copy yet); `refresh()` asks again at once (after an owner's stale-placement
 * refusal). Without a control object the defaults are the whole truth. With no copy at all and the control object
 * unreachable, `ready()` throws: placing keys by the defaults alone could read or write a resharded map in the wrong place.
 */
export class ShardCache {
  readonly #defaults: ShardConfig;
  readonly #fetch: (() => Promise<ShardSnapshot>) | undefined;
  readonly #clock: () => number;
  #config: ShardConfig;
  #fetched = false;
  #freshUntil = 0;
  #inflight: Promise<void> | undefined;

  constructor(deps: { defaults: ShardConfig; fetch?: () => Promise<ShardSnapshot>; clock?: () => number }) {
    this.#defaults = deps.defaults;
    this.#config = deps.defaults;
    this.#fetch = deps.fetch;
    this.#clock = deps.clock ?? Date.now;
  }

  config(): ShardConfig {
    return this.#config;
  }

  ready(): void | Promise<void> {
    if (this.#fetch === undefined || (this.#fetched && this.#clock() < this.#freshUntil)) return;
    if (!this.#fetched) return this.refresh();
    // A stale copy serves while the refresh runs (it never rejects once a copy is held): no message waits on the
    // control object once a second. Owners fence writes and subscriptions, so a count the copy missed is refused
    // there and the home refreshes before placing again.
    void this.refresh();
  }

  /** Asks the control object now (concurrent callers share one call). */
  refresh(): Promise<void> {
    const fetch = this.#fetch;
    if (fetch === undefined) return Promise.resolve();
    this.#inflight ??= this.#load(fetch).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #load(fetch: () => Promise<ShardSnapshot>): Promise<void> {
    try {
      const snapshot = await fetch();
      this.#config = overlayShards(this.#defaults, snapshot);
      this.#fetched = true;
      this.#freshUntil = this.#clock() + SHARD_REFRESH_MS;
    } catch (err) {
      if (!this.#fetched) throw err;
      console.error("[placement] refreshing the shard counts failed; the cached copy serves", err);
      this.#freshUntil = this.#clock() + RETRY_AFTER_FAILURE_MS;
    }
  }
}
