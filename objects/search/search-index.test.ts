import { describe, expect, it, vi } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { CrdtWriter } from "../writes/crdt-writer.ts";
import { LwwHeads } from "../writes/lww-heads.ts";
import { LwwStore } from "../writes/lww-store.ts";
import { MerkleStore } from "../writes/merkle-store.ts";
import type { OwnerOp } from "../writes/owner-op.ts";
import { OrStore } from "../writes/or-store.ts";
import { IsolateBudget } from "../storage/isolate-budget.ts";
import { applySchema } from "../storage/schema.ts";
import { SearchIndexes } from "./search-index.ts";
import { documentText } from "./search-terms.ts";

let millis = 100;

function setup(budget?: number | IsolateBudget) {
  const sql = nodeSqlPort();
  applySchema(sql);
  const merkle = new MerkleStore(sql);
  const lww = new LwwStore(sql, merkle);
  const writer = new CrdtWriter({ sql, lww, or: new OrStore(sql, merkle), merkle, hlc: new HLC("edge-p1", { clock: () => 1_000 }) });
  const shared = typeof budget === "number" ? new IsolateBudget(budget) : budget;
  const indexes = new SearchIndexes({ sql, lww, ...(shared === undefined ? {} : { budget: shared }) });
  /** Writes to SQLite and, like OwnerService, hands the applied changes to the indexes. */
  const write = (map: string, key: string, value: unknown) => {
    const op: OwnerOp = { index: 0, type: value === null ? "REMOVE" : "PUT", map, key, record: { value, timestamp: { millis: millis++, counter: 0, nodeId: "a" } } };
    indexes.update(writer.apply([op]).changes);
  };
  const keys = (map: string, query: string) => indexes.search(map, query).map((h) => h.key);
  return { indexes, write, keys };
}

describe("documentText", () => {
  it("joins every string leaf through map values and array items, skipping numbers, booleans, keys and binary", () => {
    expect(documentText({ title: "Hello", tags: ["a", { deep: "b" }], n: 3, ok: true, bin: new Uint8Array([65]) })).toBe("Hello a b");
    expect(documentText("plain")).toBe("plain");
    expect(documentText(42)).toBe("");
  });
});

describe("SearchIndexes", () => {
  it("builds a map's index lazily from SQLite (live records only, more than one page) on first search", () => {
    const { indexes, write, keys } = setup();
    for (let i = 0; i < 1100; i++) write("m", `k${i}`, { text: i === 700 ? "needle haystack" : "haystack" });
    write("m", "gone", { text: "needle" });
    write("m", "gone", null);
    expect(indexes.builds).toBe(0);

    expect(keys("m", "needle")).toEqual(["k700"]);
    expect(indexes.builds).toBe(1);
    expect(keys("m", "NEEDLE")).toEqual(["k700"]);
    expect(indexes.builds).toBe(1);
  });

  it("ranks by BM25, ORs terms and reports the query terms each document matched", () => {
    const { indexes, write } = setup();
    write("m", "a", { title: "fast red car", body: "red red red" });
    write("m", "b", { title: "slow blue boat" });
    write("m", "c", { title: "red boat" });

    const hits = indexes.search("m", "red boat");

    expect(hits.map((h) => h.key).sort()).toEqual(["a", "b", "c"]);
    expect(hits[0]?.key).toBe("c");
    expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((x, y) => y - x));
    expect(hits.find((h) => h.key === "a")?.matchedTerms).toEqual(["red"]);
    expect(hits.find((h) => h.key === "c")?.matchedTerms.sort()).toEqual(["boat", "red"]);
    expect(indexes.search("m", "")).toEqual([]);
  });

  it("follows writes to a built index: new documents, changes and tombstones", () => {
    const { write, keys } = setup();
    write("m", "a", { t: "apple" });
    expect(keys("m", "apple")).toEqual(["a"]);

    write("m", "b", { t: "apple pie" });
    write("m", "a", { t: "banana" });
    expect(keys("m", "apple")).toEqual(["b"]);
    expect(keys("m", "banana")).toEqual(["a"]);
    write("m", "a", null);
    expect(keys("m", "banana")).toEqual([]);
  });

  it("evicts the least recently used index past the budget and rebuilds it on demand", () => {
    const { indexes, write, keys } = setup(25_000); // one map here is ~11.2 kB (8 bytes a character + 400 a document + 1 KB an index)
    for (let i = 0; i < 5; i++) write("one", `k${i}`, { t: `alpha ${"x".repeat(200)}` });
    for (let i = 0; i < 5; i++) write("two", `k${i}`, { t: `beta ${"y".repeat(200)}` });
    expect(keys("one", "alpha")).toHaveLength(5);
    expect(keys("two", "beta")).toHaveLength(5);
    expect(indexes.cached).toEqual(["one", "two"]);

    for (let i = 0; i < 5; i++) write("three", `k${i}`, { t: `gamma ${"z".repeat(200)}` });
    expect(keys("three", "gamma")).toHaveLength(5);
    expect(indexes.cached).toEqual(["two", "three"]);
    expect(indexes.bytes).toBeLessThanOrEqual(25_000);

    write("one", "k9", { t: "alpha" }); // an evicted map is not updated; the rebuild reads SQLite
    expect(keys("one", "alpha")).toHaveLength(6);
    expect(indexes.builds).toBe(4);
    expect(indexes.cached).toEqual(["three", "one"]);
  });

  it("does not keep an index larger than the whole budget", () => {
    const { indexes, write, keys } = setup(500);
    for (let i = 0; i < 5; i++) write("big", `k${i}`, { t: `word ${"x".repeat(100)}` });
    expect(keys("big", "word")).toHaveLength(5);
    expect(indexes.cached).toEqual([]);
    expect(indexes.bytes).toBe(0);
  });

  it("shares one budget with the other objects of the isolate, whose idle indexes go first", () => {
    vi.useFakeTimers();
    try {
      const budget = new IsolateBudget(25_000);
      const idle = setup(budget);
      const busy = setup(budget);
      for (let i = 0; i < 5; i++) idle.write("one", `k${i}`, { t: `alpha ${"x".repeat(200)}` });
      expect(idle.keys("one", "alpha")).toHaveLength(5);
      vi.advanceTimersByTime(60_000);
      for (const map of ["two", "three"]) {
        for (let i = 0; i < 5; i++) busy.write(map, `k${i}`, { t: `beta ${"y".repeat(200)}` });
        expect(busy.keys(map, "beta")).toHaveLength(5);
      }
      expect(idle.indexes.cached).toEqual([]);
      expect(busy.indexes.cached).toEqual(["two", "three"]);
      expect(budget.bytes().evictable).toBe(busy.indexes.bytes);
    } finally {
      vi.useRealTimers();
    }
  });

  it("gives up an idle object's index for the head indexes of objects writing, which share the budget", () => {
    vi.useFakeTimers();
    try {
      const budget = new IsolateBudget(25_000);
      const idle = setup(budget);
      for (let i = 0; i < 5; i++) idle.write("one", `k${i}`, { t: `alpha ${"x".repeat(200)}` });
      expect(idle.keys("one", "alpha")).toHaveLength(5);
      vi.advanceTimersByTime(60_000);
      const heads = new LwwHeads(budget);
      heads.touch();
      const value = new Uint8Array(100);
      for (let i = 0; i < 50; i++) heads.remember("m", `k${i}`, { timestamp: { millis: 1, counter: 0, nodeId: "n" }, hash: 1, leaf: 0, value, ttlMs: null });
      expect(idle.indexes.cached).toEqual([]);
      expect(heads.stampOf("m", "k0")).toBeDefined();
      expect(budget.bytes().evictable).toBe(heads.bytes().clean);
    } finally {
      vi.useRealTimers();
    }
  });

  it("counts empty indexes against the budget too", () => {
    const { indexes, keys } = setup(4_096);
    for (let i = 0; i < 10; i++) expect(keys(`nothing${i}`, "x")).toEqual([]);
    expect(indexes.cached).toEqual(["nothing6", "nothing7", "nothing8", "nothing9"]);
  });

  describe("query syntax", () => {
    function corpus() {
      const fixture = setup();
      fixture.write("m", "fox", { title: "quick brown fox" });
      fixture.write("m", "dog", { title: "lazy brown dog" });
      fixture.write("m", "both", { title: "brown dog chases a quick fox" });
      fixture.write("m", "cat", { title: "sleepy cat" });
      return fixture;
    }
    const sorted = (keys: string[]) => [...keys].sort();

    it("returns documents with any term by default", () => {
      expect(sorted(corpus().keys("m", "fox cat"))).toEqual(["both", "cat", "fox"]);
    });

    it("keeps only documents with every +term, still scoring the optional terms", () => {
      const { indexes } = corpus();
      const hits = indexes.search("m", "+brown fox");
      expect(sorted(hits.map((h) => h.key))).toEqual(["both", "dog", "fox"]);
      expect(hits.at(-1)?.key).toBe("dog");
    });

    it("drops documents with a -term", () => {
      expect(sorted(corpus().keys("m", "brown -dog"))).toEqual(["fox"]);
    });

    it("makes both sides of AND required", () => {
      expect(sorted(corpus().keys("m", "quick AND dog"))).toEqual(["both"]);
      expect(sorted(corpus().keys("m", "quick OR dog"))).toEqual(["both", "dog", "fox"]);
    });

    it("matches a phrase only where its terms are adjacent and in order", () => {
      const { keys } = corpus();
      expect(sorted(keys("m", '"brown dog"'))).toEqual(["both", "dog"]);
      expect(keys("m", '"dog brown"')).toEqual([]);
      expect(sorted(keys("m", '"quick brown" cat'))).toEqual(["cat", "fox"]);
      expect(sorted(keys("m", 'brown -"lazy brown"'))).toEqual(["both", "fox"]);
    });

    it("answers a query of only excluded terms, or no terms, with nothing", () => {
      const { keys } = corpus();
      expect(keys("m", "-dog")).toEqual([]);
      expect(keys("m", "  ")).toEqual([]);
    });
  });
});
