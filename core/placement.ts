import { fnv1a } from "./hash.ts";

/** Partitions per namespace (TopGun's PARTITION_COUNT). */
export const PARTITION_COUNT = 271;

/** Shard counts of the maps declared sharded; every other map has one shard. */
export type ShardConfig = ReadonlyMap<string, number>;

/** Parses "name:shards,name2:shards" (whitespace tolerated; empty text is no sharded map). */
export function parseShardConfig(text: string): ShardConfig {
  const config = new Map<string, number>();
  for (const part of text.split(",")) {
    const entry = part.trim();
    if (!entry) continue;
    const colon = entry.lastIndexOf(":");
    const name = entry.slice(0, colon).trim();
    const shards = Number(entry.slice(colon + 1).trim());
    if (colon <= 0 || !name || !Number.isInteger(shards) || shards < 1 || shards > PARTITION_COUNT) {
      throw new Error(`invalid sharded map "${entry}": expected name:shards with shards in 1..${PARTITION_COUNT}`);
    }
    config.set(name, shards);
  }
  return config;
}

export function shardCountOf(config: ShardConfig, mapName: string): number {
  return config.get(mapName) ?? 1;
}

export function shardOf(config: ShardConfig, mapName: string, key: string): number {
  return fnv1a(key) % shardCountOf(config, mapName);
}

/** The partition that owns shard `shard` of `mapName`. */
export function partitionOfShard(mapName: string, shard: number): number {
  return (fnv1a(mapName) + shard) % PARTITION_COUNT;
}

/** The partition that owns `key` of `mapName` (DESIGN.md: (fnv1a(map) + fnv1a(key) % S(map)) % 271). */
export function partitionOf(config: ShardConfig, mapName: string, key: string): number {
  return partitionOfShard(mapName, shardOf(config, mapName, key));
}

/** The partitions of every shard of `mapName`, in shard order. */
export function partitionsOfMap(config: ShardConfig, mapName: string): number[] {
  return Array.from({ length: shardCountOf(config, mapName) }, (_, shard) => partitionOfShard(mapName, shard));
}

/** The partition of a topic, lock or counter: by the hash of its own name. */
export function partitionOfName(name: string): number {
  return fnv1a(name) % PARTITION_COUNT;
}
