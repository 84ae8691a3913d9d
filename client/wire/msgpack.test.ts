import { describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage } from "../../core/codec.ts";
import { decodeMsgpack, encodeMsgpack } from "./msgpack.ts";

const text = (length: number, unit = "a") => unit.repeat(length);
const bytes = (length: number) => Uint8Array.from({ length }, (_, i) => i % 251);
const objectWith = (keys: number) => Object.fromEntries(Array.from({ length: keys }, (_, i) => [`k${i}`, i]));

/** Every size boundary of every type the wire uses, and the shapes messages take. */
const vectors: [string, unknown][] = [
  ["nil", null],
  ["booleans", [true, false]],
  ...[0, 1, 127, 128, 255, 256, 65_535, 65_536, 0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER].map((n): [string, unknown] => [`${n}`, n]),
  ...[-1, -32, -33, -128, -129, -32_768, -32_769, -0x8000_0000, -0x8000_0001, Number.MIN_SAFE_INTEGER].map((n): [string, unknown] => [`${n}`, n]),
  ["fractions", [0.5, -1.25, 1_700_000_000_000.5, Number.MAX_VALUE, Number.MIN_VALUE]],
  ["non-finite numbers", [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]],
  ...[0, 31, 32, 255, 256, 65_535, 65_536].map((n): [string, unknown] => [`a string of ${n} bytes`, text(n)]),
  ["multi-byte text", ["héllo wörld", text(40, "€"), "emoji 🧪 and 漢字"]],
  ...[0, 255, 256, 65_536].map((n): [string, unknown] => [`binary of ${n} bytes`, bytes(n)]),
  ...[0, 15, 16, 65_536].map((n): [string, unknown] => [`an array of ${n} items`, Array.from({ length: n }, (_, i) => i)]),
  ...[0, 15, 16, 65_535].map((n): [string, unknown] => [`a map of ${n} keys`, objectWith(n)]),
  ["dates", [new Date(1_700_000_000_000), new Date(1_700_000_000_123), new Date(0), new Date(-1_000), new Date(20_000_000_000_000)]],
  ["undefined in a map, a list and at the top", { a: undefined, b: [1, undefined], c: { d: undefined } }],
  ["a 64-bit BigInt", { big: 2n ** 60n, negative: -(2n ** 60n) }],
  [
    "an OP_BATCH",
    {
      type: "OP_BATCH",
      payload: {
        ops: [{ id: "1", mapName: "todos", key: "t1", opType: "PUT", record: { value: { title: "Buy milk", done: false, n: 3 }, timestamp: { millis: 1_700_000_000_000, counter: 2, nodeId: "n1" } } }],
      },
    },
  ],
];

describe("the client's msgpack codec", () => {
  it.each(vectors)("writes %s so that core reads what it reads from its own encoding", (_name, value) => {
    expect(decodeMessage(encodeMsgpack(value))).toEqual(decodeMessage(encodeMessage(value)));
  });

  it.each(vectors)("reads %s from core's encoding as core does", (_name, value) => {
    expect(decodeMsgpack(encodeMessage(value))).toEqual(decodeMessage(encodeMessage(value)));
  });

  it("writes integers below 2^32 compactly, as core does, and larger ones as 64-bit integers core reads as the same Number", () => {
    for (const n of [0, 127, 128, 65_536, -33, -0x8000_0000]) expect(encodeMsgpack(n)).toEqual(encodeMessage(n));
    for (const n of [0x1_0000_0000, 1_700_000_000_000, -(2 ** 40)]) expect(decodeMessage(encodeMsgpack(n))).toBe(n);
  });

  it("writes a map of more than 65,535 keys as a map32, which core reads (and cannot write)", () => {
    expect(decodeMessage(encodeMsgpack(objectWith(70_000)))).toEqual(objectWith(70_000));
  });

  it("reads 64-bit integers as Numbers", () => {
    expect(decodeMsgpack(Uint8Array.of(0xcf, 0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0))).toBe(1_700_000_000_000);
    expect(decodeMsgpack(Uint8Array.of(0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe))).toBe(-2);
  });

  it("reads a float32", () => {
    expect(decodeMsgpack(Uint8Array.of(0xca, 0x3f, 0xc0, 0, 0))).toBe(1.5);
  });

  it("refuses a __proto__ key (core's decoder renames that key, so no record the server stores carries it)", () => {
    expect(() => decodeMsgpack(Uint8Array.of(0x81, 0xa9, ...new TextEncoder().encode("__proto__"), 0x01))).toThrow();
  });

  it("reads an unknown extension as opaque data, which no guard accepts as a message field", () => {
    expect(decodeMsgpack(Uint8Array.of(0xd4, 0x05, 0x00))).toMatchObject({ type: 5 });
  });

  it.each([
    ["truncated input", Uint8Array.of(0xcd, 0x01)],
    ["trailing bytes", Uint8Array.of(0x01, 0x02)],
    ["the reserved byte 0xc1", Uint8Array.of(0xc1)],
    ["a map key that is a list", Uint8Array.of(0x81, 0x90, 0x01)],
  ])("refuses %s, as core does", (_name, input) => {
    expect(() => decodeMessage(input)).toThrow();
    expect(() => decodeMsgpack(input)).toThrow();
  });

  it("agrees with core on 500 random nested values", () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const randomValue = (depth: number): unknown => {
      const pick = Math.floor(random() * (depth > 3 ? 6 : 9));
      switch (pick) {
        case 0: return null;
        case 1: return random() < 0.5;
        case 2: return Math.floor((random() - 0.5) * 2 ** (random() * 60));
        case 3: return (random() - 0.5) * 1e6;
        case 4: return text(Math.floor(random() * 300), random() < 0.5 ? "x" : "é");
        case 5: return bytes(Math.floor(random() * 300));
        case 6: return Array.from({ length: Math.floor(random() * 20) }, () => randomValue(depth + 1));
        default: return Object.fromEntries(Array.from({ length: Math.floor(random() * 20) }, (_, i) => [`f${i}`, randomValue(depth + 1)]));
      }
    };
    for (let i = 0; i < 500; i++) {
      const value = randomValue(0);
      expect(decodeMessage(encodeMsgpack(value))).toEqual(decodeMessage(encodeMessage(value)));
      expect(decodeMsgpack(encodeMessage(value))).toEqual(decodeMessage(encodeMessage(value)));
    }
  });
});
