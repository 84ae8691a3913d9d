import { describe, expect, it } from "vitest";
import {
  compareEntries,
  evaluatePredicate,
  matchesQuery,
  matchesWhere,
  sortPositionOf,
  TopEntries,
  type QueryEntry,
} from "./predicate.ts";
import type { PredicateNode } from "./protocol/shared.ts";
import { decodeCursor, encodeCursor } from "./query-cursor.ts";

const leaf = (op: PredicateNode["op"], attribute: string, value: unknown): PredicateNode => ({ op, attribute, value });
const user = { name: "Alice Smith", age: 30, active: true, city: "Paris" };

describe("evaluatePredicate", () => {
  it.each([
    ["eq", "age", 30, true],
    ["eq", "age", "30", false],
    ["neq", "age", 31, true],
    ["neq", "age", 30, false],
    ["gt", "age", 29, true],
    ["gt", "age", 30, false],
    ["gte", "age", 30, true],
    ["lt", "age", 31, true],
    ["lt", "age", 30, false],
    ["lte", "age", 30, true],
    ["gt", "name", "Alice", true],
    ["like", "name", "alice%", true],
    ["like", "name", "%SMITH", true],
    ["like", "name", "A_ice Smith", true],
    ["like", "name", "Alice", false],
    ["like", "name", "a.ice%", false],
    ["regex", "name", "^Al.*h$", true],
    ["regex", "name", "^alice", false],
    ["regex", "name", "([", false],
    ["contains", "name", "ICE sm", true],
    ["contains", "name", "bob", false],
    ["containsAll", "name", ["alice", "smith"], true],
    ["containsAll", "name", ["alice", "jones"], false],
    ["containsAny", "name", ["bob", "smith"], true],
    ["containsAny", "name", ["bob", "jones"], false],
  ] as const)("%s %s %j is %s", (op, attribute, value, expected) => {
    expect(evaluatePredicate(leaf(op, attribute, value), user)).toBe(expected);
  });

  it("treats neq against a missing field as true and every other comparison as false", () => {
    expect(evaluatePredicate(leaf("neq", "missing", 1), user)).toBe(true);
    for (const op of ["eq", "gt", "gte", "lt", "lte", "like", "regex", "contains"] as const) {
      expect(evaluatePredicate(leaf(op, "missing", "x"), user)).toBe(false);
    }
  });

  it("combines children with and, or and not (empty and is true, empty or false, empty not true)", () => {
    const young = leaf("lt", "age", 18);
    const paris = leaf("eq", "city", "Paris");
    expect(evaluatePredicate({ op: "and", children: [paris, leaf("eq", "active", true)] }, user)).toBe(true);
    expect(evaluatePredicate({ op: "and", children: [paris, young] }, user)).toBe(false);
    expect(evaluatePredicate({ op: "or", children: [young, paris] }, user)).toBe(true);
    expect(evaluatePredicate({ op: "not", children: [young] }, user)).toBe(true);
    expect(evaluatePredicate({ op: "and", children: [] }, user)).toBe(true);
    expect(evaluatePredicate({ op: "or", children: [] }, user)).toBe(false);
    expect(evaluatePredicate({ op: "not" }, user)).toBe(true);
  });

  it("never matches a value that is not a map", () => {
    for (const value of [null, 5, "Paris", [1, 2], new Uint8Array([1]), true]) {
      expect(evaluatePredicate(leaf("neq", "city", "x"), value)).toBe(false);
      expect(evaluatePredicate({ op: "not", children: [leaf("eq", "city", "x")] }, value)).toBe(false);
    }
  });

  it("compares objects by identity only, so an object never equals a target", () => {
    expect(evaluatePredicate(leaf("eq", "tags", { a: 1 }), { tags: { a: 1 } })).toBe(false);
    expect(evaluatePredicate(leaf("gt", "tags", 1), { tags: { a: 1 } })).toBe(false);
  });
});

describe("matchesQuery", () => {
  it("matches every value, non-maps included, with an empty query", () => {
    expect(matchesQuery({}, 5)).toBe(true);
    expect(matchesQuery({}, user)).toBe(true);
  });

  it("requires every where field to be present and equal", () => {
    expect(matchesWhere({ city: "Paris", age: 30 }, user)).toBe(true);
    expect(matchesWhere({ city: "Paris", age: 31 }, user)).toBe(false);
    expect(matchesWhere({ missing: undefined }, user)).toBe(false);
    expect(matchesWhere({ city: "Paris" }, "Paris")).toBe(false);
  });

  it("uses predicate and ignores where when both are given", () => {
    expect(matchesQuery({ where: { city: "Rome" }, predicate: leaf("eq", "city", "Paris") }, user)).toBe(true);
    expect(matchesQuery({ where: { city: "Paris" }, predicate: leaf("eq", "city", "Rome") }, user)).toBe(false);
  });
});

describe("sorting", () => {
  const entries: QueryEntry[] = [
    { key: "a", value: { team: "red", score: 2 } },
    { key: "b", value: { team: "blue", score: 5 } },
    { key: "c", value: { team: "red", score: 9 } },
    { key: "d", value: { score: 1 } },
    { key: "e", value: { team: "blue", score: 5 } },
  ];
  const keys = (list: QueryEntry[]) => list.map((e) => e.key);

  it("sorts by several keys in order, ties broken by key", () => {
    const sorted = [...entries].sort(compareEntries({ team: "asc", score: "desc" }));
    expect(keys(sorted)).toEqual(["b", "e", "c", "a", "d"]);
  });

  it("puts a missing field last ascending and first descending", () => {
    expect(keys([...entries].sort(compareEntries({ team: "asc" })))).toEqual(["b", "e", "a", "c", "d"]);
    expect(keys([...entries].sort(compareEntries({ team: "desc" })))).toEqual(["d", "a", "c", "b", "e"]);
  });

  it("sorts by an ordered [{field, direction}] array exactly as by the map of the same order", () => {
    const array = [...entries].sort(compareEntries([{ field: "team", direction: "asc" }, { field: "score", direction: "desc" }]));
    expect(keys(array)).toEqual(["b", "e", "c", "a", "d"]);
  });

  it("gives the array's first key priority, whatever the field names", () => {
    const sorted = [...entries].sort(compareEntries([{ field: "score", direction: "desc" }, { field: "team", direction: "asc" }]));
    expect(keys(sorted)).toEqual(["c", "b", "e", "a", "d"]);
  });

  it("sorts by the record key through the field _key", () => {
    expect(keys([...entries].sort(compareEntries([{ field: "_key", direction: "desc" }])))).toEqual(["e", "d", "c", "b", "a"]);
  });

  it("orders by key alone without a sort", () => {
    expect(keys([...entries].reverse().sort(compareEntries(undefined)))).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("keeps only the best limit entries after a position", () => {
    const sort = { score: "asc" } as const;
    const top = new TopEntries({ sort, limit: 2 });
    for (const entry of entries) top.offer(entry);
    expect(keys(top.entries())).toEqual(["d", "a"]);
    const next = new TopEntries({ sort, limit: 2, after: sortPositionOf(sort, entries[0]!) });
    for (const entry of entries) next.offer(entry);
    expect(keys(next.entries())).toEqual(["b", "e"]);
  });
});

describe("query cursors", () => {
  it("round-trips a position, unicode included", () => {
    const sort = { name: "asc", n: "desc" } as const;
    const position = { values: ["Zoë", null], key: "k/é" };
    expect(decodeCursor(sort, encodeCursor(sort, position))).toEqual(position);
  });

  it("continues a cursor of the map form with the array form of the same order", () => {
    const cursor = encodeCursor({ a: "asc", b: "desc" }, { values: [1, 2], key: "k" });
    const array = [{ field: "a", direction: "asc" }, { field: "b", direction: "desc" }] as const;
    expect(decodeCursor([...array], cursor)).toEqual({ values: [1, 2], key: "k" });
  });

  it("rejects a cursor of another sort or a string that is not a cursor", () => {
    const cursor = encodeCursor({ a: "asc" }, { values: [1], key: "k" });
    expect(decodeCursor({ a: "desc" }, cursor)).toBeUndefined();
    expect(decodeCursor({ a: "asc" }, "not a cursor!")).toBeUndefined();
  });
});

describe("evaluatePredicate: TopGun main's additions", () => {
  const row = { status: "open", score: 5, tags: ["a", "b"], owner: "u1", none: null };
  const leaf = (node: Partial<PredicateNode> & Pick<PredicateNode, "op">): PredicateNode => node;

  it("matches `in` when the field equals an element, or an array field holds the scalar", () => {
    expect(evaluatePredicate(leaf({ op: "in", attribute: "status", value: ["done", "open"] }), row)).toBe(true);
    expect(evaluatePredicate(leaf({ op: "in", attribute: "status", value: ["done"] }), row)).toBe(false);
    expect(evaluatePredicate(leaf({ op: "in", attribute: "tags", value: "b" }), row)).toBe(true);
    expect(evaluatePredicate(leaf({ op: "in", attribute: "tags", value: "z" }), row)).toBe(false);
  });

  it("matches `between` inclusively for numbers and strings, never across types", () => {
    expect(evaluatePredicate(leaf({ op: "between", attribute: "score", value: [5, 9] }), row)).toBe(true);
    expect(evaluatePredicate(leaf({ op: "between", attribute: "score", value: [6, 9] }), row)).toBe(false);
    expect(evaluatePredicate(leaf({ op: "between", attribute: "status", value: ["a", "p"] }), row)).toBe(true);
    expect(evaluatePredicate(leaf({ op: "between", attribute: "score", value: ["1", "9"] }), row)).toBe(false);
    expect(evaluatePredicate(leaf({ op: "between", attribute: "score", value: [1] }), row)).toBe(false);
  });

  it("treats a missing field and null alike for isNull and isNotNull", () => {
    expect(evaluatePredicate(leaf({ op: "isNull", attribute: "none" }), row)).toBe(true);
    expect(evaluatePredicate(leaf({ op: "isNull", attribute: "absent" }), row)).toBe(true);
    expect(evaluatePredicate(leaf({ op: "isNull", attribute: "score" }), row)).toBe(false);
    expect(evaluatePredicate(leaf({ op: "isNotNull", attribute: "score" }), row)).toBe(true);
    expect(evaluatePredicate(leaf({ op: "isNotNull", attribute: "none" }), row)).toBe(false);
  });

  it("reads the record key through the pseudo-attribute _key", () => {
    const byKey = leaf({ op: "in", attribute: "_key", value: ["k1", "k2"] });
    expect(evaluatePredicate(byKey, row, { key: "k2" })).toBe(true);
    expect(evaluatePredicate(byKey, row, { key: "k3" })).toBe(false);
    expect(evaluatePredicate(byKey, row)).toBe(false);
  });

  it("compares against auth.* and data.* through valueRef, and an unresolvable reference is false", () => {
    const owned = leaf({ op: "eq", attribute: "owner", valueRef: "auth.id" });
    expect(evaluatePredicate(owned, row, { auth: { id: "u1" } })).toBe(true);
    expect(evaluatePredicate(owned, row, { auth: { id: "u2" } })).toBe(false);
    expect(evaluatePredicate(owned, row)).toBe(false);
    expect(evaluatePredicate(leaf({ op: "eq", attribute: "owner", valueRef: "auth.org.id" }), row, { auth: { org: { id: "u1" } } })).toBe(true);
    expect(evaluatePredicate(leaf({ op: "eq", attribute: "owner", valueRef: "data.status" }), row)).toBe(false);
    expect(evaluatePredicate(leaf({ op: "isNotNull", attribute: "owner", valueRef: "auth.missing" }), row, { auth: {} })).toBe(true);
    expect(evaluatePredicate(leaf({ op: "in", attribute: "owner", valueRef: "auth.team" }), row, { auth: { team: ["u1", "u9"] } })).toBe(true);
  });
});
