import { describe, expect, it } from "vitest";
import { fnv1a } from "./hash.ts";
import type { Timestamp } from "./hlc.ts";
import { orEntryHash } from "./or-entry-hash.ts";
import type { ORMapRecord } from "./or-record.ts";

const ts = (millis: number, counter = 0, nodeId = "n"): Timestamp => ({ millis, counter, nodeId });
const record = (tag: string, value: unknown, timestamp = ts(100), ttlMs?: number): ORMapRecord =>
  ttlMs === undefined ? { tag, value, timestamp } : { tag, value, timestamp, ttlMs };

describe("orEntryHash", () => {
  it("matches the TS client's hash of PROTOCOL.md §7.4", () => {
    expect(orEntryHash("k", [record("100:0:n", "v")])).toBe(1425604257);
    expect(orEntryHash("k", [record("100:0:n", "v")])).toBe(fnv1a("key:k|100:0:n:v:100:0:n"));
  });

  it("does not depend on record order, sorting tags by code unit", () => {
    const a = record("B-tag", 1, ts(1));
    const b = record("a-tag", 2, ts(2));
    expect(orEntryHash("k", [a, b])).toBe(orEntryHash("k", [b, a]));
    expect(orEntryHash("k", [b, a])).toBe(fnv1a("key:k|B-tag:1:1:0:n|a-tag:2:2:0:n"));
  });

  it("hashes a key with no records as key:<key>", () => {
    expect(orEntryHash("k", [])).toBe(fnv1a("key:k"));
  });

  it("appends :ttl= when a TTL is present", () => {
    expect(orEntryHash("k", [record("t", "v", ts(1), 500)])).toBe(fnv1a("key:k|t:v:1:0:n:ttl=500"));
  });

  it("writes primitives with String() and null as null", () => {
    expect(orEntryHash("k", [record("t", false, ts(1))])).toBe(fnv1a("key:k|t:false:1:0:n"));
    expect(orEntryHash("k", [record("t", 0, ts(1))])).toBe(fnv1a("key:k|t:0:1:0:n"));
    expect(orEntryHash("k", [record("t", "", ts(1))])).toBe(fnv1a("key:k|t::1:0:n"));
    expect(orEntryHash("k", [record("t", null, ts(1))])).toBe(fnv1a("key:k|t:null:1:0:n"));
  });

  it("whitelists an object's sorted top-level keys at every depth, like the client", () => {
    const value = { b: { z: 1, a: 2 }, a: 1 };
    expect(orEntryHash("k", [record("t", value, ts(1))])).toBe(fnv1a('key:k|t:{"a":1,"b":{"a":2}}:1:0:n'));
  });

  it("serialises arrays in full but filters their nested objects by index keys", () => {
    const value = [{ x: 1, "0": "kept" }, 2];
    expect(orEntryHash("k", [record("t", value, ts(1))])).toBe(fnv1a('key:k|t:[{"0":"kept"},2]:1:0:n'));
  });
});
