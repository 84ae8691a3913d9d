import { describe, expect, it } from "vitest";
import { fnv1a } from "./hash.ts";
import {
  DEFAULT_HOME_PARTITIONS,
  PARTITION_COUNT,
  homePartitionAt,
  homePartitionOfClient,
  isShardCount,
  isStalePlacementError,
  overlayShards,
  parseHomePartitions,
  parseShardConfig,
  partitionOf,
  partitionOfName,
  partitionOfShard,
  partitionsOfMap,
  shardCountOf,
  shardOf,
  stalePlacementMessage,
} from "./placement.ts";

describe("partitionOfName", () => {
  const vectors: [string, number][] = [
    ["", 199],
    ["hello", 95],
    ["key1", 268],
    ["key1:100:0:test", 245],
    ["user:alice", 91],
    ["alice", 205],
    ["a", 101],
    ["b", 128],
    ["\u00e9", 105],
    ["\u{1f600}", 102],
  ];

  it.each(vectors)("places %j in partition %i like TopGun's fnv1a %% 271", (name, partition) => {
    expect(partitionOfName(name)).toBe(partition);
  });
});

describe("home partitions of sockets", () => {
  it("spreads the homes evenly over the 271 partitions, the first at partition 0", () => {
    expect(Array.from({ length: 16 }, (_, i) => homePartitionAt(i, 16))).toEqual([0, 16, 33, 50, 67, 84, 101, 118, 135, 152, 169, 186, 203, 220, 237, 254]);
  });

  it("homes a client id at fnv1a(id) mod homes", () => {
    // fnv1a("alice") % 271 = 205 (above); fnv1a("alice") % 16 picks the home.
    expect(homePartitionOfClient("alice")).toBe(homePartitionAt(fnv1a("alice") % 16, 16));
    expect(homePartitionOfClient("alice", PARTITION_COUNT)).toBe(205);
    expect(homePartitionOfClient("alice", 1)).toBe(0);
  });

  it("reads TOPGUN_HOME_PARTITIONS: unset or empty is the default, 1..271 are taken, anything else throws naming it", () => {
    expect(parseHomePartitions(undefined)).toBe(DEFAULT_HOME_PARTITIONS);
    expect(parseHomePartitions(" ")).toBe(DEFAULT_HOME_PARTITIONS);
    expect(parseHomePartitions("1")).toBe(1);
    expect(parseHomePartitions(" 271 ")).toBe(271);
    for (const bad of ["0", "272", "-3", "8.5", "many", "1e2"]) expect(() => parseHomePartitions(bad)).toThrow(/TOPGUN_HOME_PARTITIONS/);
  });
});

describe("parseShardConfig", () => {
  it("reads name:shards pairs and tolerates whitespace", () => {
    const config = parseShardConfig(" events : 16 , logs:4,");
    expect([...config]).toEqual([
      ["events", 16],
      ["logs", 4],
    ]);
  });

  it("reads empty text as no sharded map", () => {
    expect(parseShardConfig("").size).toBe(0);
    expect(parseShardConfig("  ").size).toBe(0);
  });

  it("keeps colons inside a map name", () => {
    expect(parseShardConfig("app:events:8").get("app:events")).toBe(8);
  });

  it.each(["events", "events:", ":4", "events:0", "events:272", "events:1.5", "events:0x10", "events:-3"])(
    "rejects the bad entry %j",
    (text) => {
      expect(() => parseShardConfig(text)).toThrow(/bad sharded map entry/);
    },
  );

  it("rejects a map declared twice", () => {
    expect(() => parseShardConfig("a:2,a:3")).toThrow(/declared twice/);
  });

  it("accepts the bounds 1 and 271", () => {
    expect([...parseShardConfig("a:1,b:271").values()]).toEqual([1, 271]);
  });
});

describe("map placement", () => {
  const config = parseShardConfig("events:8");

  it("gives an undeclared map one shard", () => {
    expect(shardCountOf(config, "users")).toBe(1);
    expect(shardOf(config, "users", "alice")).toBe(0);
  });

  it("keeps every key of an unsharded map in the partition of the map name", () => {
    const home = fnv1a("users") % PARTITION_COUNT;
    for (const key of ["a", "b", "alice", "key1", ""]) expect(partitionOf(config, "users", key)).toBe(home);
    expect(partitionsOfMap(config, "users")).toEqual([home]);
  });

  it("spreads the keys of a sharded map over exactly its shards' partitions", () => {
    const partitions = partitionsOfMap(config, "events");
    expect(partitions).toHaveLength(8);
    expect(new Set(partitions).size).toBe(8);
    const used = new Set<number>();
    for (let i = 0; i < 500; i++) used.add(partitionOf(config, "events", `key-${i}`));
    expect([...used].sort((a, b) => a - b)).toEqual([...partitions].sort((a, b) => a - b));
  });

  it("places a key by (fnv1a(map) + fnv1a(key) % S) % 271", () => {
    const expected = (fnv1a("events") + (fnv1a("key1") % 8)) % PARTITION_COUNT;
    expect(partitionOf(config, "events", "key1")).toBe(expected);
    expect(shardOf(config, "events", "key1")).toBe(fnv1a("key1") % 8);
  });

  it("lists partitions in shard order", () => {
    const expected = [0, 1, 2, 3, 4, 5, 6, 7].map((shard) => partitionOfShard("events", shard));
    expect(partitionsOfMap(config, "events")).toEqual(expected);
  });

  it("wraps a map's shards around partition 270", () => {
    const all = parseShardConfig("big:271");
    expect(new Set(partitionsOfMap(all, "big")).size).toBe(PARTITION_COUNT);
  });
});

describe("namespace shard counts", () => {
  it("puts the namespace's shard counts over the deployment's defaults", () => {
    const config = overlayShards(parseShardConfig("a:4,b:2"), { version: 3, maps: { b: 16, c: 8 } });
    expect([...config].sort()).toEqual([["a", 4], ["b", 16], ["c", 8]]);
  });

  it("accepts integer shard counts in 1..271 only", () => {
    expect([1, 16, 271].every(isShardCount)).toBe(true);
    expect([0, 272, 1.5, -1, "8", null, Number.NaN].some(isShardCount)).toBe(false);
  });

  it("recognises an owner's stale-placement refusal by its message, as it arrives over RPC", () => {
    expect(isStalePlacementError(new Error(stalePlacementMessage("m")))).toBe(true);
    expect(isStalePlacementError(new Error("write failed"))).toBe(false);
    expect(isStalePlacementError(stalePlacementMessage("m"))).toBe(false);
  });
});
