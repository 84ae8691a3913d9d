import type { Partition } from "./partition.ts";

/** Bindings and variables of the Worker and its Partition objects (wrangler.toml). */
export interface Env {
  PARTITION: DurableObjectNamespace<Partition>;
  /** The Sync Lab page (wrangler.toml `[assets]`, built from lab/); absent in test configurations without it. */
  ASSETS?: Fetcher;
  /** HS256 secret for client JWTs (a Worker secret). */
  JWT_SECRET?: string;
  /** "1" or "true" turns authentication off: local development only. */
  TOPGUN_NO_AUTH?: string;
  /** Postgres write-through (wrangler.toml `--env postgres`); absent: Durable Object storage alone. */
  HYPERDRIVE?: Hyperdrive;
  /** Maps spread over several partitions: "name:shards,name2:shards". */
  TOPGUN_SHARDED_MAPS?: string;
}
