import { describe, expect, it } from "vitest";
import { encodeMessage } from "./codec.ts";
import { scanMsgpackDepth } from "./msgpack-depth.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

/** `levels` nested one-element arrays around a 0: 0x91 repeated, then 0x00. */
function deepArrays(levels: number): Uint8Array {
  const out = new Uint8Array(levels + 1).fill(0x91);
  out[levels] = 0x00;
  return out;
}

/** `levels` nested one-entry maps `{"a": {"a": ... 0}}`: 0x81 0xa1 0x61 repeated, then 0x00. */
function deepMaps(levels: number): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < levels; i++) out.push(0x81, 0xa1, 0x61);
  out.push(0x00);
  return new Uint8Array(out);
}

describe("scanMsgpackDepth", () => {
  it("gives a scalar depth 0", () => {
    expect(scanMsgpackDepth(bytes(0x2a), 256)).toEqual({ ok: true, depth: 0, end: 1 });
  });

  it("does not count empty arrays and maps as levels", () => {
    expect(scanMsgpackDepth(bytes(0x90), 256)).toEqual({ ok: true, depth: 0, end: 1 });
    expect(scanMsgpackDepth(bytes(0x80), 256)).toEqual({ ok: true, depth: 0, end: 1 });
    expect(scanMsgpackDepth(bytes(0x91, 0x90), 256)).toEqual({ ok: true, depth: 1, end: 2 });
  });

  it("counts the top-level map as level 1", () => {
    // {"a": 1}
    expect(scanMsgpackDepth(bytes(0x81, 0xa1, 0x61, 0x01), 256)).toEqual({ ok: true, depth: 1, end: 4 });
  });

  it("accepts arrays nested exactly to the limit", () => {
    expect(scanMsgpackDepth(deepArrays(256), 256)).toEqual({ ok: true, depth: 256, end: 257 });
  });

  it("stops at the first array that opens a level past the limit", () => {
    expect(scanMsgpackDepth(deepArrays(257), 256)).toEqual({ ok: false, problem: "too-deep", offset: 256 });
  });

  it("stops at the first map that opens a level past the limit", () => {
    expect(scanMsgpackDepth(deepMaps(256), 256)).toMatchObject({ ok: true, depth: 256 });
    expect(scanMsgpackDepth(deepMaps(257), 256)).toEqual({ ok: false, problem: "too-deep", offset: 256 * 3 });
  });

  it("scans a million levels without recursion", () => {
    expect(scanMsgpackDepth(deepArrays(1_000_000), 256)).toMatchObject({ ok: false, problem: "too-deep" });
  });

  it("returns to the parent level after a container closes", () => {
    // [[[1]], [2], 3]: depth 3, and the siblings after the deep element are read at their own level.
    expect(scanMsgpackDepth(bytes(0x93, 0x91, 0x91, 0x01, 0x91, 0x02, 0x03), 256)).toEqual({ ok: true, depth: 3, end: 7 });
  });

  it("counts a map's keys and values (a container as a key nests too)", () => {
    // {[1]: {"b": 2}}
    expect(scanMsgpackDepth(bytes(0x81, 0x91, 0x01, 0x81, 0xa1, 0x62, 0x02), 256)).toEqual({ ok: true, depth: 2, end: 7 });
  });

  it("reads array 16/32 and map 16/32 counts big-endian", () => {
    expect(scanMsgpackDepth(bytes(0xdc, 0x00, 0x02, 0x01, 0x02), 256)).toEqual({ ok: true, depth: 1, end: 5 });
    expect(scanMsgpackDepth(bytes(0xdd, 0x00, 0x00, 0x00, 0x01, 0xc0), 256)).toEqual({ ok: true, depth: 1, end: 6 });
    expect(scanMsgpackDepth(bytes(0xde, 0x00, 0x01, 0xa1, 0x61, 0xc3), 256)).toEqual({ ok: true, depth: 1, end: 6 });
    expect(scanMsgpackDepth(bytes(0xdf, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02), 256)).toEqual({ ok: true, depth: 1, end: 7 });
  });

  it("skips str, bin and ext bodies by their length, even when they hold container bytes", () => {
    // [str8 "\x91\x91", bin8 [0x91], ext8 type 1 [0x91 0x91], fixext1 type 5 [0x91], 7]
    const frame = bytes(0x95, 0xd9, 0x02, 0x91, 0x91, 0xc4, 0x01, 0x91, 0xc7, 0x02, 0x01, 0x91, 0x91, 0xd4, 0x05, 0x91, 0x07);
    expect(scanMsgpackDepth(frame, 256)).toEqual({ ok: true, depth: 1, end: frame.length });
  });

  it("skips 16- and 32-bit lengths and the fixed-size scalars", () => {
    const frame = bytes(
      0x96,
      0xda, 0x00, 0x01, 0x91, // str 16
      0xc6, 0x00, 0x00, 0x00, 0x01, 0x91, // bin 32
      0xc8, 0x00, 0x01, 0x07, 0x91, // ext 16
      0xd8, 0x01, ...new Array<number>(16).fill(0x91), // fixext 16
      0xcb, ...new Array<number>(8).fill(0x91), // float 64
      0xd3, ...new Array<number>(8).fill(0x91), // int 64
    );
    expect(scanMsgpackDepth(frame, 256)).toEqual({ ok: true, depth: 1, end: frame.length });
  });

  it("reports truncated input: a cut header, a cut body, a container missing its values", () => {
    expect(scanMsgpackDepth(bytes(), 256)).toEqual({ ok: false, problem: "truncated", offset: 0 });
    expect(scanMsgpackDepth(bytes(0xdc, 0x00), 256)).toEqual({ ok: false, problem: "truncated", offset: 0 });
    expect(scanMsgpackDepth(bytes(0xd9, 0x05, 0x61), 256)).toEqual({ ok: false, problem: "truncated", offset: 0 });
    expect(scanMsgpackDepth(bytes(0x92, 0x01), 256)).toEqual({ ok: false, problem: "truncated", offset: 2 });
    expect(scanMsgpackDepth(bytes(0xdf, 0xff, 0xff, 0xff, 0xff), 256)).toEqual({ ok: false, problem: "truncated", offset: 5 });
  });

  it("reports the reserved byte 0xc1", () => {
    expect(scanMsgpackDepth(bytes(0x91, 0xc1), 256)).toEqual({ ok: false, problem: "reserved-byte", offset: 1 });
  });

  it("agrees with the codec on a real message", () => {
    const frame = encodeMessage({ type: "CLIENT_OP", payload: { mapName: "m", key: "k", record: { value: { a: [1, { b: 2 }] } } } });
    expect(scanMsgpackDepth(frame, 256)).toEqual({ ok: true, depth: 6, end: frame.length });
  });
});
