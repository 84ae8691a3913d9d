import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { IsolateBudget } from "../storage/isolate-budget.ts";
import { estimatedHeadBytes, type LwwHead, LwwHeads } from "./lww-heads.ts";

const head = (): LwwHead => ({ timestamp: { millis: 1, counter: 0, nodeId: "n" }, hash: 1, leaf: 0, value: new Uint8Array(1_000), ttlMs: null });
const HEAD_BYTES = estimatedHeadBytes("k000", head());

function fill(heads: LwwHeads, prefix: string, n: number, dirty = false): void {
  heads.touch();
  for (let i = 0; i < n; i++) {
    const key = `${prefix}${String(i).padStart(3, "0")}`;
    if (dirty) heads.write("m", key, head());
    else heads.remember("m", key, head());
  }
}

const held = (heads: LwwHeads, prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => heads.stampOf("m", `${prefix}${String(i).padStart(3, "0")}`)).filter(Boolean).length;

describe("LwwHeads over one isolate budget", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("keeps the heads of every object of an isolate within one budget, however many objects there are", () => {
    const budget = new IsolateBudget(100 * HEAD_BYTES, Infinity);
    const objects = Array.from({ length: 10 }, () => new LwwHeads(budget));
    for (const [i, heads] of objects.entries()) fill(heads, `o${i}-`, 50);
    const { evictable, pinned } = budget.bytes();
    expect(evictable + pinned).toBeLessThanOrEqual(100 * HEAD_BYTES);
    expect(objects.reduce((sum, heads) => sum + heads.bytes().clean, 0)).toBe(evictable);
  });

  it("evicts the heads of an idle object before those of an object in use", () => {
    vi.useFakeTimers();
    const budget = new IsolateBudget(100 * HEAD_BYTES, Infinity);
    const idle = new LwwHeads(budget);
    const busy = new LwwHeads(budget);
    fill(idle, "i", 60);
    vi.advanceTimersByTime(60_000);
    fill(busy, "b", 60);
    expect(held(busy, "b", 60)).toBe(60);
    expect(held(idle, "i", 60)).toBeLessThan(40);
    // The idle object gave up its oldest heads, and only as many as the budget needed.
    expect(idle.stampOf("m", "i059")?.head).toBeDefined();
    expect(idle.stampOf("m", "i000")?.head).toBeUndefined();
  });

  it("takes from objects in use in proportion to what they hold", () => {
    const budget = new IsolateBudget(100 * HEAD_BYTES, Infinity);
    const large = new LwwHeads(budget);
    const small = new LwwHeads(budget);
    fill(large, "l", 60);
    fill(small, "s", 30);
    fill(large, "x", 20);
    const lost = { large: 80 - held(large, "l", 60) - held(large, "x", 20), small: 30 - held(small, "s", 30) };
    expect(lost.small).toBeGreaterThan(0);
    expect(lost.large).toBeGreaterThan(lost.small);
  });

  it("never evicts a dirty head, and past the isolate's dirty bound asks only an object holding dirty heads to compact", () => {
    const budget = new IsolateBudget(10 * HEAD_BYTES, 5 * HEAD_BYTES);
    const writer = new LwwHeads(budget);
    const reader = new LwwHeads(budget);
    fill(writer, "d", 8, true);
    fill(reader, "c", 8);
    expect(held(writer, "d", 8)).toBe(8);
    expect(writer.isIsolateOverBound()).toBe(true);
    expect(reader.isIsolateOverBound()).toBe(false);
    for (const entry of writer.sortedDirty()) writer.markClean(entry);
    expect(writer.isIsolateOverBound()).toBe(false);
  });

  it("gives back every byte of a value it holds, of every byte value and longer than one string piece", () => {
    const heads = new LwwHeads(new IsolateBudget(Infinity, Infinity));
    const value = Uint8Array.from({ length: 20_000 }, (_, i) => (i * 7) & 255);
    heads.write("m", "big", { ...head(), value });
    heads.remember("m", "small", { ...head(), value: new Uint8Array([0, 128, 255]) });
    heads.remember("m", "tombstone", { ...head(), value: null });
    expect(heads.stampOf("m", "big")?.head?.value).toEqual(value);
    for (const entry of heads.sortedDirty()) heads.markClean(entry);
    expect(heads.stampOf("m", "big")?.head?.value).toEqual(value);
    expect(heads.stampOf("m", "small")?.head?.value).toEqual(new Uint8Array([0, 128, 255]));
    expect(heads.stampOf("m", "tombstone")?.head?.value).toBeNull();
  });

  it("stops counting an object's heads once the runtime has collected the object", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const budget = new IsolateBudget(Infinity, Infinity);
    const kept = new LwwHeads(budget);
    fill(kept, "k", 5);
    (() => fill(new LwwHeads(budget), "g", 5, true))();
    expect(budget.bytes()).toMatchObject({ accounts: 2, pinned: 5 * HEAD_BYTES });
    // A WeakRef's target lives at least until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(budget.bytes()).toEqual({ evictable: 5 * HEAD_BYTES, pinned: 0, accounts: 1 });
    expect(held(kept, "k", 5)).toBe(5);
  });
});
