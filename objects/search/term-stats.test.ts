import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { applySchema } from "../storage/schema.ts";
import { CrdtWriter } from "../writes/crdt-writer.ts";
import { LwwStore } from "../writes/lww-store.ts";
import { MerkleStore } from "../writes/merkle-store.ts";
import { OrStore } from "../writes/or-store.ts";
import { SearchIndexes } from "./search-index.ts";
import { mergeTermStats } from "./term-stats.ts";

const docs: Record<string, string> = {
  a: "edge sync edge",
  b: "durable objects at the edge",
  c: "sqlite in durable objects",
  d: "merkle trees sync offline clients",
  e: "edge edge edge edge search",
  f: "a long document about many things but also about sync and the edge of the map",
};

/** An index holding `keys` of the documents above. */
function indexOf(keys: string[]): SearchIndexes {
  const sql = nodeSqlPort();
  applySchema(sql);
  const merkle = new MerkleStore(sql);
  const lww = new LwwStore(sql, merkle);
  const writer = new CrdtWriter({ sql, lww, or: new OrStore(sql, merkle), merkle, hlc: new HLC("edge-p1", { clock: () => 1_000 }) });
  keys.forEach((key, i) => writer.apply([{ index: 0, type: "PUT", map: "m", key, record: { value: { text: docs[key] }, timestamp: { millis: i + 1, counter: 0, nodeId: "a" } } }]));
  return new SearchIndexes({ sql, lww });
}

const scores = (hits: { key: string; score: number }[]) => Object.fromEntries(hits.map((h) => [h.key, h.score]));

describe("whole-map term statistics", () => {
  it.each(["edge", "edge sync", "durable objects", "+sync edge", "edge -objects"])(
    "scores the hits of two shards as one index over both scores them (%s)",
    (query) => {
      const whole = indexOf(Object.keys(docs));
      const shards = [indexOf(["a", "c", "e"]), indexOf(["b", "d", "f"])];
      const stats = mergeTermStats(shards.map((s) => s.termStats("m", query)));

      const sharded = scores(shards.flatMap((s) => s.search("m", query, undefined, stats)));
      const expected = scores(whole.search("m", query));

      expect(Object.keys(sharded).sort()).toEqual(Object.keys(expected).sort());
      for (const [key, score] of Object.entries(expected)) expect(sharded[key]).toBeCloseTo(score, 9);
    },
  );

  it("leaves scores unchanged under the index's own statistics", () => {
    const index = indexOf(["a", "b", "e"]);
    const own = index.termStats("m", "edge sync");
    expect(scores(index.search("m", "edge sync", undefined, own))).toEqual(
      Object.fromEntries(Object.entries(scores(index.search("m", "edge sync"))).map(([k, v]) => [k, expect.closeTo(v, 9)])),
    );
  });

  it("differs from a shard's own scores when its term statistics differ from the whole map's", () => {
    const shard = indexOf(["a", "c", "e"]);
    const other = indexOf(["b", "d", "f"]);
    const stats = mergeTermStats([shard.termStats("m", "edge"), other.termStats("m", "edge")]);
    expect(scores(shard.search("m", "edge", undefined, stats)).a).not.toBeCloseTo(scores(shard.search("m", "edge")).a ?? 0, 3);
  });
});
