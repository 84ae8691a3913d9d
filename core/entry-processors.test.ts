import { describe, expect, it } from "vitest";
import { BUILTIN_PROCESSORS, deepEqual, runProcessor } from "./entry-processors.ts";

describe("built-in entry processors", () => {
  it("increment adds args (default 1) to a number, starting from 0", () => {
    expect(runProcessor("increment", undefined, undefined)).toMatchObject({ ok: true, result: 1, newValue: 1, write: { value: 1 } });
    expect(runProcessor("increment", 5, 3)).toMatchObject({ ok: true, newValue: 8 });
    expect(runProcessor("increment", 5, -7)).toMatchObject({ ok: true, newValue: -2 });
    expect(runProcessor("increment", "x", 1)).toMatchObject({ ok: false });
    expect(runProcessor("increment", 1, "2")).toMatchObject({ ok: false });
  });

  it("append extends arrays and strings", () => {
    expect(runProcessor("append", [1], 2)).toMatchObject({ ok: true, newValue: [1, 2] });
    expect(runProcessor("append", [1], [2, 3])).toMatchObject({ ok: true, newValue: [1, 2, 3] });
    expect(runProcessor("append", "ab", "c")).toMatchObject({ ok: true, newValue: "abc" });
    expect(runProcessor("append", undefined, "c")).toMatchObject({ ok: true, newValue: "c" });
    expect(runProcessor("append", undefined, 1)).toMatchObject({ ok: true, newValue: [1] });
    expect(runProcessor("append", "ab", 1)).toMatchObject({ ok: false });
    expect(runProcessor("append", { a: 1 }, 1)).toMatchObject({ ok: false });
  });

  it("merge is a shallow object merge", () => {
    expect(runProcessor("merge", { a: 1, b: { x: 1 } }, { b: { y: 2 }, c: 3 })).toMatchObject({
      ok: true,
      newValue: { a: 1, b: { y: 2 }, c: 3 },
    });
    expect(runProcessor("merge", undefined, { a: 1 })).toMatchObject({ ok: true, newValue: { a: 1 } });
    expect(runProcessor("merge", [1], { a: 1 })).toMatchObject({ ok: false });
    expect(runProcessor("merge", {}, 3)).toMatchObject({ ok: false });
  });

  it("setIfAbsent writes only when there is no value", () => {
    expect(runProcessor("setIfAbsent", undefined, "v")).toMatchObject({ ok: true, result: true, newValue: "v", write: { value: "v" } });
    expect(runProcessor("setIfAbsent", "old", "v")).toEqual({ ok: true, result: false, newValue: "old", write: undefined });
    expect(runProcessor("setIfAbsent", null, "v")).toMatchObject({ result: true });
  });

  it("compareAndSet swaps on deep equality", () => {
    expect(runProcessor("compareAndSet", { a: [1, { b: 2 }] }, { expected: { a: [1, { b: 2 }] }, value: 9 })).toMatchObject({
      ok: true,
      result: true,
      write: { value: 9 },
    });
    expect(runProcessor("compareAndSet", { a: 1 }, { expected: { a: 2 }, value: 9 })).toMatchObject({ result: false, write: undefined });
    expect(runProcessor("compareAndSet", undefined, { expected: null, value: 1 })).toMatchObject({ result: true, newValue: 1 });
    expect(runProcessor("compareAndSet", 1, { expected: 1, value: null })).toMatchObject({ result: true, write: { delete: true } });
    expect(runProcessor("compareAndSet", 1, 5)).toMatchObject({ ok: false });
  });

  it("delete tombstones a live value", () => {
    expect(runProcessor("delete", 1, undefined)).toEqual({ ok: true, result: true, newValue: undefined, write: { delete: true } });
    expect(runProcessor("delete", undefined, undefined)).toMatchObject({ ok: true, result: false, write: undefined });
  });

  it("names the built-ins for an unknown processor", () => {
    const outcome = runProcessor("eval", 1, undefined);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) for (const name of BUILTIN_PROCESSORS) expect(outcome.error).toContain(name);
  });

  it("deepEqual compares structurally", () => {
    expect(deepEqual({ a: [1, 2], b: null }, { b: null, a: [1, 2] })).toBe(true);
    expect(deepEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(deepEqual([1], { 0: 1 })).toBe(false);
    expect(deepEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
  });
});
