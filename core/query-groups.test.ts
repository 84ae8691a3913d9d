import { describe, expect, it } from "vitest";
import { groupEntries, groupSpecOf, groupValues, isGroupedQuery, mergeGroups, type GroupSpec } from "./query-groups.ts";

const orders = [
  { status: "open", amount: 10 },
  { status: "open", amount: 20 },
  { status: "open", amount: 12 },
  { status: "done", amount: 5 },
  { status: "done", amount: "n/a" },
  { amount: 7 },
  { status: null, amount: 1 },
];

const rows = (spec: GroupSpec, values: unknown[]) =>
  Object.fromEntries(groupEntries(spec, groupValues(spec, values)).map((e) => [JSON.stringify((e.value as Record<string, unknown>).status), e.value]));

describe("grouped queries", () => {
  it("holds one row per group with __count and only the requested aggregates", () => {
    const spec: GroupSpec = { groupBy: ["status"], aggregations: [{ func: "sum", field: "amount" }, { func: "max", field: "amount" }] };
    expect(rows(spec, orders)['"open"']).toEqual({ status: "open", __count: 3, __sum_amount: 42, __max_amount: 20 });
  });

  it("computes count, sum, min, max and avg with their PROTOCOL-NEXT names", () => {
    const spec: GroupSpec = {
      groupBy: ["status"],
      aggregations: [
        { func: "count" },
        { func: "sum", field: "amount" },
        { func: "min", field: "amount" },
        { func: "max", field: "amount" },
        { func: "avg", field: "amount" },
      ],
    };
    expect(rows(spec, orders)['"open"']).toEqual({
      status: "open",
      __count: 3,
      __sum_amount: 42,
      __min_amount: 10,
      __max_amount: 20,
      __avg_amount: 14,
    });
  });

  it("skips non-numeric values in sum, min, max and avg but counts the record", () => {
    const spec: GroupSpec = { groupBy: ["status"], aggregations: [{ func: "sum", field: "amount" }, { func: "avg", field: "amount" }] };
    expect(rows(spec, orders)['"done"']).toEqual({ status: "done", __count: 2, __sum_amount: 5, __avg_amount: 5 });
  });

  it("gives sum 0 and min, max, avg null to a group without numbers", () => {
    const spec: GroupSpec = {
      groupBy: ["status"],
      aggregations: [{ func: "sum", field: "x" }, { func: "min", field: "x" }, { func: "max", field: "x" }, { func: "avg", field: "x" }],
    };
    expect(rows(spec, [{ status: "a" }])['"a"']).toEqual({ status: "a", __count: 1, __sum_x: 0, __min_x: null, __max_x: null, __avg_x: null });
  });

  it("puts a missing field and null in the same group, valued null", () => {
    const spec: GroupSpec = { groupBy: ["status"], aggregations: [] };
    expect(rows(spec, orders)["null"]).toEqual({ status: null, __count: 2 });
  });

  it("keeps values of different types in different groups, typed", () => {
    const spec: GroupSpec = { groupBy: ["v"], aggregations: [] };
    const entries = groupEntries(spec, groupValues(spec, [{ v: 1 }, { v: "1" }, { v: 1 }, { v: true }]));
    expect(entries.map((e) => e.value)).toEqual([{ v: 1, __count: 2 }, { v: "1", __count: 1 }, { v: true, __count: 1 }]);
    expect(new Set(entries.map((e) => e.key)).size).toBe(3);
  });

  it("groups by several fields", () => {
    const spec: GroupSpec = { groupBy: ["a", "b"], aggregations: [] };
    const entries = groupEntries(spec, groupValues(spec, [{ a: 1, b: 1 }, { a: 1, b: 2 }, { a: 1, b: 1 }]));
    expect(entries.map((e) => e.value)).toEqual([{ a: 1, b: 1, __count: 2 }, { a: 1, b: 2, __count: 1 }]);
  });

  it("merges shard partials into the same rows as one pass over every record", () => {
    const spec: GroupSpec = {
      groupBy: ["status"],
      aggregations: [{ func: "sum", field: "amount" }, { func: "min", field: "amount" }, { func: "max", field: "amount" }, { func: "avg", field: "amount" }],
    };
    const merged = mergeGroups([groupValues(spec, orders.slice(0, 2)), groupValues(spec, orders.slice(2, 5)), groupValues(spec, orders.slice(5))]);
    expect(groupEntries(spec, merged)).toEqual(groupEntries(spec, groupValues(spec, orders)));
  });

  it("makes one group of every record without groupBy", () => {
    const spec = groupSpecOf({ aggregations: [{ func: "count" }] });
    expect(groupEntries(spec, groupValues(spec, orders)).map((e) => e.value)).toEqual([{ __count: 7 }]);
    expect(isGroupedQuery({ aggregations: [] })).toBe(true);
    expect(isGroupedQuery({})).toBe(false);
  });

  it("gives long group values a short bucket id that still tells groups apart", () => {
    const spec: GroupSpec = { groupBy: ["v"], aggregations: [] };
    const long = "x".repeat(5000);
    const entries = groupEntries(spec, groupValues(spec, [{ v: long }, { v: `${long}y` }, { v: long }]));
    expect(entries.map((e) => (e.value as { __count: number }).__count)).toEqual([2, 1]);
    for (const e of entries) expect(e.key.length).toBeLessThan(64);
    expect(new Set(entries.map((e) => e.key)).size).toBe(2);
  });
});
