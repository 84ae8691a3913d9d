import { OPEN_SNAPSHOT, type PolicySnapshot } from "../../core/access-policy.ts";

/** How long a partition trusts its copy of the policies before asking the control object again. */
export const POLICY_REFRESH_MS = 1_000;
/**
 * From an age drawn in [POLICY_REFRESH_AHEAD_MS, POLICY_REFRESH_MS - 50 ms) a copy still serves, but the first caller
 * starts a refresh in the background, so under steady traffic no delivery or message waits for the control object.
 * The draw spreads the refreshes of partitions that fetched together: a publish reaching 100 homes used to find all
 * their copies expired at once, once a second, and waited for 100 control calls answered one after another.
 * A copy older than POLICY_REFRESH_MS never serves.
 */
export const POLICY_REFRESH_AHEAD_MS = 500;
const REFRESH_AHEAD_SPREAD_MS = POLICY_REFRESH_MS - 50 - POLICY_REFRESH_AHEAD_MS;
/** After a failed refresh, how soon to try again (the old copy keeps serving meanwhile). */
const RETRY_AFTER_FAILURE_MS = 250;

/**
 * A partition's cached copy of its namespace's policies: refreshed ahead of POLICY_REFRESH_MS while it is used and never
 * served older (so a change is seen everywhere within about a second, without a reconnect), shared by concurrent
 * callers, and kept when the
 * control object is briefly away. With no copy at all and the control object unreachable, it throws: a failure to
 * read the policy store denies (PROTOCOL-NEXT.md §5.2).
 */
export class PolicyCache {
  readonly #fetch: () => Promise<PolicySnapshot>;
  readonly #clock: () => number;
  readonly #random: () => number;
  #snapshot: PolicySnapshot | undefined;
  #freshUntil = 0;
  #refreshAfter = 0;
  #inflight: Promise<PolicySnapshot> | undefined;

  /** `random` (in [0, 1), Math.random by default) places the background refresh within its window. */
  constructor(deps: { fetch: () => Promise<PolicySnapshot>; clock?: () => number; random?: () => number }) {
    this.#fetch = deps.fetch;
    this.#clock = deps.clock ?? Date.now;
    this.#random = deps.random ?? Math.random;
  }

  current(): PolicySnapshot | Promise<PolicySnapshot> {
    return this.atHand() ?? this.#refreshOnce();
  }

  /** The copy, when it may still serve (starting the background refresh when due); undefined when it must be fetched. */
  atHand(): PolicySnapshot | undefined {
    const now = this.#clock();
    if (this.#snapshot === undefined || now >= this.#freshUntil) return undefined;
    // A failed background refresh is logged by #refresh, which answers the old copy rather than throw.
    if (now >= this.#refreshAfter) void this.#refreshOnce();
    return this.#snapshot;
  }

  #refreshOnce(): Promise<PolicySnapshot> {
    this.#inflight ??= this.#refresh().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #refresh(): Promise<PolicySnapshot> {
    try {
      const snapshot = await this.#fetch();
      this.#snapshot = snapshot;
      const now = this.#clock();
      this.#freshUntil = now + POLICY_REFRESH_MS;
      this.#refreshAfter = now + POLICY_REFRESH_AHEAD_MS + Math.floor(this.#random() * REFRESH_AHEAD_SPREAD_MS);
      return snapshot;
    } catch (err) {
      if (this.#snapshot === undefined) throw err;
      console.error("[access] refreshing the policies failed; the cached copy serves", err);
      const now = this.#clock();
      this.#freshUntil = now + RETRY_AFTER_FAILURE_MS;
      this.#refreshAfter = now + RETRY_AFTER_FAILURE_MS;
      return this.#snapshot;
    }
  }
}

/** The cache of a deployment without a control object binding (tests): nothing configured, everything allowed. */
export const OPEN_POLICIES = new PolicyCache({ fetch: async () => OPEN_SNAPSHOT });
