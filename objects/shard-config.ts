import { parseShardConfig, type ShardConfig } from "../core/placement.ts";
import type { Settings } from "./settings.ts";

let cached: { text: string; config: ShardConfig } | undefined;

/** The sharded-map configuration of this deployment, parsed once per isolate. */
export function shardConfigOf(settings: Settings): ShardConfig {
  const text = settings.TOPGUN_SHARDED_MAPS ?? "";
  if (cached?.text !== text) cached = { text, config: parseShardConfig(text) };
  return cached.config;
}
