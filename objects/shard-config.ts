import { parseShardConfig, type ShardConfig } from "../core/placement.ts";
import type { Env } from "./env.ts";

let cached: { text: string; config: ShardConfig } | undefined;

/** The sharded-map configuration of this deployment, parsed once per isolate. */
export function shardConfigOf(env: Env): ShardConfig {
  const text = env.TOPGUN_SHARDED_MAPS ?? "";
  if (cached?.text !== text) cached = { text, config: parseShardConfig(text) };
  return cached.config;
}
