import { describe, expect, it } from "vitest";
import { projectValue } from "./query-projection.ts";

describe("projectValue", () => {
  it("keeps only the listed top-level fields", () => {
    expect(projectValue({ a: 1, b: { c: 2 }, d: 3 }, ["b", "d", "zz"])).toEqual({ b: { c: 2 }, d: 3 });
  });

  it("leaves a non-map value and a query without fields unchanged", () => {
    expect(projectValue([1, 2], ["a"])).toEqual([1, 2]);
    expect(projectValue("text", ["a"])).toBe("text");
    expect(projectValue({ a: 1 }, undefined)).toEqual({ a: 1 });
  });
});
