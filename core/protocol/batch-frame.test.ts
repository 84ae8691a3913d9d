import { describe, expect, it } from "vitest";
import { splitInboundBatch } from "./batch-frame.ts";

/** Builds inbound BATCH data: each item as a u32 big-endian length and its bytes. */
function frame(...items: number[][]): Uint8Array {
  const out: number[] = [];
  for (const item of items) {
    const length = item.length;
    out.push((length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff, ...item);
  }
  return new Uint8Array(out);
}

describe("splitInboundBatch", () => {
  it("splits big-endian length-prefixed items in order", () => {
    const items = splitInboundBatch(frame([0xc0], [0x81, 0xa1, 0x61, 0x01], []));
    expect(items.map((item) => [...item])).toEqual([[0xc0], [0x81, 0xa1, 0x61, 0x01], []]);
  });

  it("reads lengths as big-endian, not little-endian", () => {
    const body = Array.from({ length: 258 }, (_, i) => i & 0xff);
    const items = splitInboundBatch(frame(body));
    expect(items).toHaveLength(1);
    expect(items[0]?.byteLength).toBe(258);
  });

  it("has no count prefix: empty data gives no items", () => {
    expect(splitInboundBatch(new Uint8Array())).toEqual([]);
  });

  it("stops at a truncated body and keeps the items before it", () => {
    const data = frame([0x01], [0x02, 0x03, 0x04]).subarray(0, 5 + 4 + 2);
    expect(splitInboundBatch(data).map((item) => [...item])).toEqual([[0x01]]);
  });

  it("stops at a truncated length", () => {
    const data = new Uint8Array([...frame([0x01]), 0x00, 0x00]);
    expect(splitInboundBatch(data).map((item) => [...item])).toEqual([[0x01]]);
  });

  it("stops at a length larger than the data", () => {
    expect(splitInboundBatch(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x01]))).toEqual([]);
  });

  it("reads from a view that starts inside a larger buffer", () => {
    const whole = new Uint8Array([0xaa, 0xbb, ...frame([0x07])]);
    const items = splitInboundBatch(whole.subarray(2));
    expect(items.map((item) => [...item])).toEqual([[0x07]]);
  });
});
