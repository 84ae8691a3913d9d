import { NO_SCHEMAS, SchemaSet, type SchemaChanges } from "../../core/map-schema.ts";
import { POLICY_REFRESH_MS } from "./policy-cache.ts";

/** After a failed refresh, how soon to try again (the old copy keeps serving meanwhile). */
const RETRY_AFTER_FAILURE_MS = 250;

/**
 * A partition's cached copy of its namespace's map schemas: asked of the control object at most once per
 * POLICY_REFRESH_MS (which sends the set only when its version moved), shared by concurrent callers, and kept when the
 * control object is briefly away, so writes the copy allows go on. Once it holds a copy no write waits for a refresh:
 * a stale copy serves while the refresh runs, so a change is in force within about a second and one round trip.
 * With no copy at all and the control object unreachable it throws: a write that cannot be checked is not applied
 * (the writer gets no OP_ACK and resends).
 */
export class SchemaCache {
  readonly #fetch: (known?: number) => Promise<SchemaChanges>;
  readonly #clock: () => number;
  #set: SchemaSet | undefined;
  #freshUntil = 0;
  #inflight: Promise<SchemaSet> | undefined;

  constructor(deps: { fetch: (known?: number) => Promise<SchemaChanges>; clock?: () => number }) {
    this.#fetch = deps.fetch;
    this.#clock = deps.clock ?? Date.now;
  }

  current(): SchemaSet | Promise<SchemaSet> {
    const held = this.#set;
    if (held !== undefined && this.#clock() < this.#freshUntil) return held;
    this.#inflight ??= this.#refresh().finally(() => {
      this.#inflight = undefined;
    });
    return held ?? this.#inflight;
  }

  async #refresh(): Promise<SchemaSet> {
    const held = this.#set;
    try {
      const changes = await this.#fetch(held?.version);
      const set = changes.schemas === undefined && held !== undefined ? held : new SchemaSet(changes.version, changes.schemas ?? [], held);
      this.#set = set;
      this.#freshUntil = this.#clock() + POLICY_REFRESH_MS;
      return set;
    } catch (err) {
      if (held === undefined) throw err;
      console.error("[schemas] refreshing the map schemas failed; the cached copy serves", err);
      this.#freshUntil = this.#clock() + RETRY_AFTER_FAILURE_MS;
      return held;
    }
  }
}

/** The cache of a deployment without a control object binding (tests): no map has a schema. */
export const NO_SCHEMA_CACHE = new SchemaCache({ fetch: async () => ({ version: NO_SCHEMAS.version, schemas: [] }) });
