import { describe, expect, it } from "vitest";
import { MAX_PREDICATE_DEPTH } from "../limits.ts";
import {
  classifyOp,
  clientOpSchema,
  lwwRecordSchema,
  pnCounterStateSchema,
  predicateNodeSchema,
  querySchema,
  type ClientOp,
  type PredicateNode,
  wireU32,
  wireU64,
} from "./shared.ts";

const ts = { millis: 1_700_000_000_000, counter: 3, nodeId: "client-a" };

describe("wire integers", () => {
  it("accepts an epoch-millis number above 2^32, as JS clients send it", () => {
    expect(wireU64.parse(1_700_000_000_000)).toBe(1_700_000_000_000);
  });

  it("accepts a uint64 that msgpackr decoded as a BigInt and reads it as a number", () => {
    expect(wireU64.parse(1_700_000_000_000n)).toBe(1_700_000_000_000);
  });

  it("rejects a fractional number", () => {
    expect(wireU64.safeParse(12.5).success).toBe(false);
  });

  it("rejects a negative number, a string and an unsafe integer", () => {
    expect(wireU64.safeParse(-1).success).toBe(false);
    expect(wireU64.safeParse("5").success).toBe(false);
    expect(wireU64.safeParse(2 ** 60).success).toBe(false);
  });

  it("rejects a u32 above 2^32 - 1", () => {
    expect(wireU32.parse(0xffff_ffff)).toBe(0xffff_ffff);
    expect(wireU32.safeParse(2 ** 32).success).toBe(false);
  });
});

describe("records", () => {
  it.each([false, 0, "", null, [], { nested: { a: 1 } }, new Uint8Array([1, 2, 3])])(
    "keeps the value %j exactly as decoded",
    (value) => {
      expect(lwwRecordSchema.parse({ value, timestamp: ts }).value).toStrictEqual(value);
    },
  );

  it("reads ttlMs nil as absent", () => {
    expect(lwwRecordSchema.parse({ value: 1, timestamp: ts, ttlMs: null }).ttlMs).toBeUndefined();
  });

  it("drops unknown keys around the value", () => {
    expect(lwwRecordSchema.parse({ value: 1, timestamp: { ...ts, extra: true }, extra: 1 })).toEqual({
      value: 1,
      timestamp: ts,
    });
  });

  it("requires the value key", () => {
    expect(lwwRecordSchema.safeParse({ timestamp: ts }).success).toBe(false);
  });
});

describe("classifyOp", () => {
  const base = { mapName: "todos", key: "t1" };
  const op = (extra: Record<string, unknown>): ClientOp => clientOpSchema.parse({ ...base, ...extra });
  const record = { value: "v", timestamp: ts };
  const orRecord = { value: "v", timestamp: ts, tag: "1700000000000:3:client-a" };

  it("classifies opType REMOVE as REMOVE before anything else", () => {
    expect(classifyOp(op({ opType: "REMOVE", record, orRecord }))).toBe("REMOVE");
  });

  it("classifies a present nil record as REMOVE", () => {
    expect(classifyOp(op({ record: null, orRecord }))).toBe("REMOVE");
  });

  it("classifies a tombstone record (value nil) as REMOVE", () => {
    expect(classifyOp(op({ opType: "PUT", record: { value: null, timestamp: ts } }))).toBe("REMOVE");
  });

  it("is case-sensitive about opType", () => {
    expect(classifyOp(op({ opType: "remove", record }))).toBe("PUT");
  });

  it("classifies a non-nil orRecord as OR_ADD", () => {
    expect(classifyOp(op({ opType: "OR_ADD", orRecord, orTag: "x" }))).toBe("OR_ADD");
  });

  it("classifies an orTag with no orRecord key as OR_REMOVE", () => {
    expect(classifyOp(op({ opType: "OR_REMOVE", orTag: orRecord.tag }))).toBe("OR_REMOVE");
  });

  it("does not classify an orTag beside a present nil orRecord as OR_REMOVE", () => {
    expect(classifyOp(op({ orTag: orRecord.tag, orRecord: null }))).toBe("PUT");
  });

  it("classifies everything else as PUT", () => {
    expect(classifyOp(op({ opType: "PUT", record }))).toBe("PUT");
    expect(classifyOp(op({ orTag: null }))).toBe("PUT");
  });
});

describe("PN counter state", () => {
  it("reads {p, n}", () => {
    expect(pnCounterStateSchema.parse({ p: { a: 3 }, n: { b: 1 } })).toEqual({ p: { a: 3 }, n: { b: 1 } });
  });

  it("reads the v0.12 client's {positive, negative} as {p, n}", () => {
    expect(pnCounterStateSchema.parse({ positive: { a: 3 }, negative: {} })).toEqual({ p: { a: 3 }, n: {} });
  });

  it("rejects a state with neither spelling", () => {
    expect(pnCounterStateSchema.safeParse({ p: { a: 3 } }).success).toBe(false);
  });
});

describe("predicates", () => {
  it.each(["eq", "neq", "gt", "gte", "lt", "lte", "like", "regex", "contains", "containsAll", "containsAny"])(
    "accepts the leaf op %s",
    (opName) => {
      expect(predicateNodeSchema.safeParse({ op: opName, attribute: "title", value: "x" }).success).toBe(true);
    },
  );

  it("accepts nested and/or/not trees and keeps leaf values", () => {
    const tree = {
      op: "and",
      children: [
        { op: "or", children: [{ op: "eq", attribute: "done", value: false }] },
        { op: "not", children: [{ op: "containsAny", attribute: "tags", value: ["a", "b"] }] },
      ],
    };
    expect(predicateNodeSchema.parse(tree)).toEqual(tree);
  });

  it("rejects an op outside the predicate language", () => {
    expect(predicateNodeSchema.safeParse({ op: "match", attribute: "title", value: "x" }).success).toBe(false);
  });

  it("rejects a predicate nested deeper than the limit", () => {
    let node: PredicateNode = { op: "eq", attribute: "a", value: 1 };
    for (let depth = 1; depth <= MAX_PREDICATE_DEPTH; depth++) node = { op: "not", children: [node] };
    expect(querySchema.safeParse({ predicate: node }).success).toBe(false);
  });

  it("rejects sort directions other than lowercase asc and desc", () => {
    expect(querySchema.safeParse({ sort: { title: "ASC" } }).success).toBe(false);
  });
});
