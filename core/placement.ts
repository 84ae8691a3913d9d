import { fnv1a } from "./hash.ts";

/** Partitions per namespace, as in TopGun. */
export const PARTITION_COUNT = 271;

/** Shard counts of the maps declared sharded; a map that is not listed has one shard. */
export type ShardConfig = ReadonlyMap<string, number>;

const SHARD_COUNT_PATTERN = /^\d+$/;

/**
 * Parses `"name:shards,name2:shards"` (spaces allowed around every part; empty text declares no sharded
 * map). Throws on an entry without a name, a shard count outside 1..271, or a map named twice.
 */
export function parseShardConfig(text: string): ShardConfig {
  const config = new Map<string, number>();
  for (const part of text.split(",")) {
    const entry = part.trim();
    if (entry === "") continue;
    // The last colon separates the count, so a map name may itself contain ':'.
    const colon = entry.lastIndexOf(":");
    const name = entry.slice(0, Math.max(colon, 0)).trim();
    const countText = entry.slice(colon + 1).trim();
    const shards = Number(countText);
    if (colon < 0 || name === "" || !SHARD_COUNT_PATTERN.test(countText) || shards < 1 || shards > PARTITION_COUNT) {
      throw new Error(`bad sharded map entry "${entry}": expected "name:shards" with shards in 1..${PARTITION_COUNT}`);
    }
    if (config.has(name)) throw new Error(`bad sharded map entry "${entry}": map "${name}" is declared twice`);
    config.set(name, shards);
  }
  return config;
}

/** The number of shards of `mapName` (1 unless the map is declared sharded). */
export function shardCountOf(config: ShardConfig, mapName: string): number {
  return config.get(mapName) ?? 1;
}

/** The shard of `mapName` that holds `key`: fnv1a(key) mod the map's shard count. */
export function shardOf(config: ShardConfig, mapName: string, key: string): number {
  return fnv1a(key) % shardCountOf(config, mapName);
}

/** The partition that owns shard `shard` of `mapName`: consecutive shards sit on consecutive partitions. */
export function partitionOfShard(mapName: string, shard: number): number {
  return (fnv1a(mapName) + shard) % PARTITION_COUNT;
}

/** The partition that owns `key` of `mapName`: (fnv1a(map) + fnv1a(key) mod S(map)) mod 271 (DESIGN.md). */
export function partitionOf(config: ShardConfig, mapName: string, key: string): number {
  return partitionOfShard(mapName, shardOf(config, mapName, key));
}

/** The partition of each shard of `mapName`, in shard order. */
export function partitionsOfMap(config: ShardConfig, mapName: string): number[] {
  const partitions: number[] = [];
  for (let shard = 0; shard < shardCountOf(config, mapName); shard++) partitions.push(partitionOfShard(mapName, shard));
  return partitions;
}

/**
 * How many partitions take the sockets whose URL names no map, unless `TOPGUN_HOME_PARTITIONS` says otherwise. Every
 * event (a topic message, a query update) costs its owner one call per home that has a subscriber, so sockets hashed
 * over all 271 partitions make a topic with 100 subscribers ~84 calls; over 16 homes it is at most 16.
 */
export const DEFAULT_HOME_PARTITIONS = 16;

/**
 * The home of a socket whose URL names no map: `fnv1a(clientId) mod homes`, spread evenly over the 271 partitions
 * (home i is partition ⌊i·271/homes⌋). With `homes` = 271 this is `partitionOfName(clientId)`.
 */
export function homePartitionOfClient(clientId: string, homes: number = DEFAULT_HOME_PARTITIONS): number {
  return homePartitionAt(fnv1a(clientId) % homes, homes);
}

/** Partition of home `index` of `homes` (0 ≤ index < homes). */
export function homePartitionAt(index: number, homes: number): number {
  return Math.floor((index * PARTITION_COUNT) / homes);
}

/**
 * `TOPGUN_HOME_PARTITIONS`: unset or empty, the default; else a whole number in 1..271. Throws, naming the setting,
 * on anything else.
 */
export function parseHomePartitions(setting: string | undefined): number {
  const text = setting?.trim() ?? "";
  if (text === "") return DEFAULT_HOME_PARTITIONS;
  // A home count has the range of a shard count (1..271), written as plain digits.
  const homes = Number(text);
  if (!SHARD_COUNT_PATTERN.test(text) || !isShardCount(homes)) {
    throw new Error(`TOPGUN_HOME_PARTITIONS must be a whole number in 1..${PARTITION_COUNT}, not "${setting}"`);
  }
  return homes;
}

/** The partition of a topic, lock or counter: TopGun's fnv1a(name) mod 271. */
export function partitionOfName(name: string): number {
  return fnv1a(name) % PARTITION_COUNT;
}

/**
 * The shard counts a namespace's administrators set (`PUT /api/admin/maps/{map}/shards`), kept by its control
 * object. `version` rises with every change, so a partition knows its cached copy is stale.
 */
export interface ShardSnapshot {
  version: number;
  /** Map name → shard count; a map not named here has the deployment's default (TOPGUN_SHARDED_MAPS, else 1). */
  maps: Record<string, number>;
}

/** The deployment's defaults with the namespace's own shard counts over them. */
export function overlayShards(defaults: ShardConfig, snapshot: ShardSnapshot): ShardConfig {
  const config = new Map(defaults);
  for (const [map, shards] of Object.entries(snapshot.maps)) config.set(map, shards);
  return config;
}

/** True when `shards` is a shard count a map may have: an integer in 1..271. */
export function isShardCount(shards: unknown): shards is number {
  return typeof shards === "number" && Number.isInteger(shards) && shards >= 1 && shards <= PARTITION_COUNT;
}

const STALE_PLACEMENT = "stale placement";

/** The message of an owner's refusal of keys it does not own under the map's current shard count. */
export function stalePlacementMessage(mapName: string): string {
  return `${STALE_PLACEMENT}: this partition does not own these keys of map ${mapName}`;
}

/**
 * True when `err` is an owner's refusal of a stale placement (the error crosses an RPC as its message only): the
 * home refreshes its shard counts and sends the ops again.
 */
export function isStalePlacementError(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith(STALE_PLACEMENT);
}

/**
 * Runs a read placed by the home's copy of the shard counts; when an owner refuses it as stale, refreshes the copy
 * (`refresh`) and runs it once more, placed by the fresh counts (`run` must read the counts each time it runs).
 */
export async function placedAgainIfStale<T>(refresh: () => Promise<void>, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!isStalePlacementError(err)) throw err;
    await refresh();
    return run();
  }
}
