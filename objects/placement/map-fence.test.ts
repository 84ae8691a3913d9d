import { describe, expect, it } from "vitest";
import { fnv1a } from "../../core/hash.ts";
import { partitionOfShard } from "../../core/placement.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { applySchema } from "../storage/schema.ts";
import { MapFence } from "./map-fence.ts";

const MAP = "orders";
/** Keys of MAP and the partition each has under `shards` shards. */
const keysUnder = (shards: number) => Array.from({ length: 64 }, (_, i) => `k${i}`).map((key) => ({ key, partition: partitionOfShard(MAP, fnv1a(key) % shards) }));

function setup(partition = partitionOfShard(MAP, 0)) {
  const sql = nodeSqlPort();
  applySchema(sql);
  return { sql, fence: new MapFence(sql, partition), partition };
}

describe("MapFence", () => {
  it("accepts every key of a map that was never resharded", () => {
    const { fence } = setup();
    expect(fence.refusedMap(keysUnder(1).map(({ key }) => ({ map: MAP, key })))).toBeUndefined();
  });

  it("refuses a key this partition does not own under the map's fenced count, and accepts its own", () => {
    const { fence, partition } = setup();
    fence.fence(MAP, 16);
    const keys = keysUnder(16);
    const own = keys.filter((k) => k.partition === partition).map(({ key }) => ({ map: MAP, key }));
    const other = keys.filter((k) => k.partition !== partition).map(({ key }) => ({ map: MAP, key }));
    expect(own.length).toBeGreaterThan(0);
    expect(fence.refusedMap(own)).toBeUndefined();
    expect(fence.refusedMap([...own, ...other.slice(0, 1)])).toBe(MAP);
    expect(fence.refusedMap([{ map: "other-map", key: "x" }])).toBeUndefined();
  });

  it("keeps its fences in SQLite across a restart", () => {
    const { sql, fence, partition } = setup();
    fence.fence(MAP, 16);
    const other = keysUnder(16).find((k) => k.partition !== partition);
    expect(new MapFence(sql, partition).refusedMap([{ map: MAP, key: other?.key ?? "" }])).toBe(MAP);
  });

  it("reports records, tombstones and subscribers of the map it fences", () => {
    const { sql, fence } = setup();
    expect(fence.inspect(MAP)).toEqual({ holdsData: false, holdsOrData: false, subscribers: 0 });
    sql.exec("INSERT INTO lww_record (map, key, value, millis, counter, node, leaf, hash) VALUES (?, 'k', NULL, 1, 0, 'n', 0, 0)", MAP);
    sql.exec("INSERT INTO interest (map, kind, home, conn) VALUES (?, 0, 3, 'c1')", MAP);
    sql.exec("INSERT INTO query_sub (home, conn, query_id, map, filter) VALUES (3, 'c1', 'q', ?, x'00')", MAP);
    expect(fence.fence(MAP, 4)).toEqual({ holdsData: true, holdsOrData: false, subscribers: 2 });
    sql.exec("INSERT INTO or_tombstone (map, tag, key) VALUES (?, 't', 'k')", MAP);
    expect(fence.inspect(MAP)).toMatchObject({ holdsOrData: true });
  });

  it("owns a shard of a map under its fence only on the partitions of the fenced placement", () => {
    const first = partitionOfShard(MAP, 0);
    const { fence: inside } = setup(partitionOfShard(MAP, 7));
    const { fence: outside } = setup(partitionOfShard(MAP, 8));
    inside.fence(MAP, 8);
    outside.fence(MAP, 8);
    expect(inside.ownsShardOf(MAP)).toBe(true);
    expect(outside.ownsShardOf(MAP)).toBe(false);
    expect(setup(first).fence.ownsShardOf(MAP)).toBe(true);
  });
});

describe("MapFence and subscriptions", () => {
  it("refuses a subscription placed by another count than the map's fence, and accepts the fenced count", () => {
    const { fence } = setup();
    expect(fence.acceptsCount(MAP, 1)).toBe(true);
    fence.fence(MAP, 16);
    expect(fence.acceptsCount(MAP, 1)).toBe(false);
    expect(fence.acceptsCount(MAP, 16)).toBe(true);
    expect(fence.acceptsCount("other-map", 1)).toBe(true);
  });
});
