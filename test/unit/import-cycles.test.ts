import { describe, expect, it } from "vitest";
import { importCycles, importGraph } from "../support/import-graph.ts";

describe("import graph", () => {
  it("has no import cycles anywhere in the source, type imports included", () => {
    expect(importCycles(importGraph())).toEqual([]);
  });

  it("finds a cycle of two files and a longer one", () => {
    const graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["a.ts"]],
      ["c.ts", ["d.ts"]],
      ["d.ts", ["e.ts"]],
      ["e.ts", ["c.ts", "a.ts"]],
      ["f.ts", ["a.ts"]],
    ]);
    expect(importCycles(graph).map((cycle) => cycle.join(" ")).sort()).toEqual(["a.ts b.ts", "c.ts d.ts e.ts"]);
  });
});
