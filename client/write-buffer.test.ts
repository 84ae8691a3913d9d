import { describe, expect, it, vi } from "vitest";
import { MemoryAdapter } from "./storage/memory-adapter.ts";
import type { PendingOp, StoredEntry } from "./storage/storage-adapter.ts";
import { WriteBuffer } from "./write-buffer.ts";

function entry(key: string, value: unknown): StoredEntry {
  return { mapId: "lww:m", key, value: { kind: "lww", record: { value, timestamp: { millis: 1, counter: 0, nodeId: "n" } } } };
}

describe("WriteBuffer", () => {
  it("stores a burst of writes in one commit", async () => {
    const storage = new MemoryAdapter();
    const commit = vi.spyOn(storage, "commit");
    const buffer = new WriteBuffer(storage, { onStored: () => {}, onError: () => {} });

    for (let i = 0; i < 100; i++) buffer.put(entry(`k${i}`, i));
    await buffer.flush();

    expect(commit).toHaveBeenCalledTimes(1);
    expect(await storage.loadMap("lww:m")).toHaveLength(100);
  });

  it("keeps only the last of several writes to one key in a commit", async () => {
    const storage = new MemoryAdapter();
    const buffer = new WriteBuffer(storage, { onStored: () => {}, onError: () => {} });

    buffer.put(entry("k", "first"));
    buffer.delete("lww:m", "k");
    buffer.put(entry("k", "last"));
    await buffer.flush();

    expect(await storage.loadMap("lww:m")).toEqual([entry("k", "last")]);
  });

  it("reports the stored ops only after the commit lands", async () => {
    const storage = new MemoryAdapter();
    const stored: number[] = [];
    const buffer = new WriteBuffer(storage, { onStored: (ops) => stored.push(...ops.map((o) => o.seq)), onError: () => {} });
    const op: PendingOp = { seq: 1, op: { id: "1", mapName: "m", key: "k" } };

    buffer.addOp(op);
    expect(stored).toEqual([]);
    await buffer.flush();

    expect(stored).toEqual([1]);
    expect(await storage.loadOps()).toEqual([op]);
  });
});
