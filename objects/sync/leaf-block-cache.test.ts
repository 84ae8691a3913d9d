import { describe, expect, it } from "vitest";
import { LeafBlockCache } from "./leaf-block-cache.ts";

const record = (key: string) => ({ key, record: { value: key, timestamp: { millis: 1, counter: 0, nodeId: "n" } } });

describe("LeafBlockCache", () => {
  it("reads storage once for the 16 leaves of a block", () => {
    const cache = new LeafBlockCache();
    const loads: [number, number][] = [];
    const load = (first: number, last: number) => {
      loads.push([first, last]);
      return new Map([[first + 3, [record("a")]]]);
    };
    expect(cache.read("m", 35, load)).toEqual([record("a")]);
    expect(cache.read("m", 40, load)).toEqual([]);
    expect(loads).toEqual([[32, 47]]);
  });

  it("reads storage again after a write to the map", () => {
    const cache = new LeafBlockCache();
    let loads = 0;
    const load = () => {
      loads++;
      return new Map();
    };
    cache.read("m", 1, load);
    cache.forget("m");
    cache.read("m", 1, load);
    expect(loads).toBe(2);
  });

  it("keeps other maps' blocks when one map is written", () => {
    const cache = new LeafBlockCache();
    let loads = 0;
    const load = () => {
      loads++;
      return new Map();
    };
    cache.read("a", 1, load);
    cache.forget("b");
    cache.read("a", 2, load);
    expect(loads).toBe(1);
  });
});
