import type { PartitionEnv } from "./partition.ts";

/** Bindings and variables of the Worker: the objects' own (PartitionEnv) and the Worker's alone. */
export interface Env extends PartitionEnv {
  /** The Sync Lab page (wrangler.toml `[assets]`, built from lab/); absent in test configurations without it. */
  ASSETS?: Fetcher;
}
