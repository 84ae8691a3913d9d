import { describe, expect, it } from "vitest";
import { decodeMessage, decodeValue, encodeMessage, encodeRows, encodeValue } from "./codec.ts";

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const bytes = (text: string) =>
  Uint8Array.from(text.replace(/\s/g, "").match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));

describe("encodeMessage (TopGun's msgpackr 1.x bytes)", () => {
  it("writes an object as a map16 even when small", () => {
    const encoded = encodeMessage({ type: "PING", timestamp: 5 });
    expect(hex(encoded)).toBe("de0002" + "a474797065" + "a450494e47" + "a974696d657374616d70" + "05");
  });

  it("writes epoch milliseconds as float64", () => {
    expect(hex(encodeMessage(1700000000000))).toBe("cb4278bcfe56800000");
  });

  it("writes integers below 2^32 in the smallest unsigned form and negatives as signed ints", () => {
    expect(hex(encodeMessage(200))).toBe("ccc8");
    expect(hex(encodeMessage(0xffffffff))).toBe("ceffffffff");
    expect(hex(encodeMessage(-5))).toBe("fb");
    expect(hex(encodeMessage(-40000))).toBe("d2ffff63c0");
  });

  it("writes a Uint8Array as bin", () => {
    expect(hex(encodeMessage(new Uint8Array([1, 2, 3])))).toBe("c403010203");
  });

  it("writes null as nil", () => {
    expect(hex(encodeMessage(null))).toBe("c0");
  });

  it("returns a Uint8Array that owns exactly its bytes", () => {
    encodeMessage({ filler: "x".repeat(100) });
    const encoded = encodeMessage({ type: "PING" });
    expect(encoded.constructor).toBe(Uint8Array);
    expect(encoded.byteOffset).toBe(0);
    expect(encoded.buffer.byteLength).toBe(encoded.byteLength);
  });
});

describe("undefined stripping", () => {
  it("drops object keys holding undefined, at any depth", () => {
    expect(hex(encodeMessage({ a: undefined, b: 1 }))).toBe(hex(encodeMessage({ b: 1 })));
    expect(decodeMessage(encodeMessage({ outer: { inner: undefined, kept: true } }))).toEqual({ outer: { kept: true } });
  });

  it("turns undefined array elements and a top-level undefined into nil", () => {
    expect(hex(encodeMessage([undefined, 1]))).toBe("92c001");
    expect(hex(encodeMessage(undefined))).toBe("c0");
  });

  it("never writes msgpack's undefined extension", () => {
    const encoded = hex(encodeMessage({ list: [{ x: undefined }, undefined], y: undefined }));
    expect(encoded).not.toContain("d40000");
  });
});

describe("decodeMessage", () => {
  it("reads what encodeMessage wrote", () => {
    const timestamp = { millis: 1700000000000, counter: 0, nodeId: "n" };
    const message = { type: "CLIENT_OP", payload: { key: "k", record: { value: [false, 0, ""], timestamp } } };
    expect(decodeMessage(encodeMessage(message))).toEqual(message);
  });

  it("reads a uint64 (Rust's millis) as a Number", () => {
    expect(decodeMessage(bytes("cf 0000018bcfe56800"))).toBe(1700000000000);
    expect(decodeMessage(bytes("81 a1 6d cf 0000018bcfe56800"))).toEqual({ m: 1700000000000 });
  });

  it("reads an int64 as a Number", () => {
    expect(decodeMessage(bytes("d3 fffffffffffffffe"))).toBe(-2);
  });

  it("reads maps as plain objects and tolerates scalar keys", () => {
    const decoded = decodeMessage(bytes("82 01 a1 61 c0 02"));
    expect(decoded).toEqual({ "1": "a", null: 2 });
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
  });

  it("reads bin as a plain Uint8Array detached from the input", () => {
    const input = bytes("c4 02 0102");
    const decoded = decodeMessage(input);
    expect(decoded).toEqual(new Uint8Array([1, 2]));
    expect(decoded instanceof Uint8Array && decoded.constructor).toBe(Uint8Array);
    input[2] = 9;
    expect(decoded).toEqual(new Uint8Array([1, 2]));
  });

  it("detaches binary and reads uint64 as a Number inside maps and arrays too", () => {
    // {"a": [bin 0102, uint64 2^53 - 1], "b": bin 03}
    const input = bytes("82 a1 61 92 c4 02 0102 cf 001fffffffffffff a1 62 c4 01 03");
    const decoded = decodeMessage(input) as { a: [Uint8Array, number]; b: Uint8Array };
    expect(decoded.a[1]).toBe(Number.MAX_SAFE_INTEGER);
    expect(decoded.a[0].constructor).toBe(Uint8Array);
    expect(decoded.b.constructor).toBe(Uint8Array);
    input.fill(9);
    expect(decoded).toEqual({ a: [new Uint8Array([1, 2]), Number.MAX_SAFE_INTEGER], b: new Uint8Array([3]) });
  });

  it("does not let a __proto__ key change the prototype", () => {
    const decoded = decodeMessage(bytes("81 a9 5f5f70726f746f5f5f 81 a1 78 01"));
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
  });

  it.each([
    ["truncated map", "de0002a474797065a450494e47a974696d65"],
    ["truncated string", "a5 6869"],
    ["truncated bin", "c4 05 01"],
    ["empty input", ""],
    ["trailing bytes", "01 02"],
    ["huge array header", "dd ffffffff"],
    ["reserved byte 0xc1", "c1"],
    ["reserved byte inside a map", "81 a1 61 c1"],
    ["unknown extension", "c7 01 01 00"],
    ["map key that is a map", "81 80 01"],
  ])("rejects garbage: %s", (_, input) => {
    expect(() => decodeMessage(bytes(input))).toThrow();
  });
});

describe("stored values", () => {
  it.each([
    ["false", false],
    ["zero", 0],
    ["empty string", ""],
    ["binary", new Uint8Array([0, 255, 7])],
    ["nested object", { a: [1, { b: "c" }], d: null }],
    ["float", 0.1],
    ["large integer", 2 ** 40],
  ])("round-trips %s losslessly", (_, value) => {
    expect(decodeValue(encodeValue(value))).toEqual(value);
  });
});

describe("encodeRows (the server's own storage rows)", () => {
  it("writes the bytes encodeValue writes for rows without undefined, and decodeValue reads them back", () => {
    const rows = [["k", new Uint8Array([1, 2, 3]), 1_733_000_000_000, 0, "node-a", null], ["k2", null, 1_733_000_000_001, 5, null, 60_000]];
    expect(encodeRows(rows)).toEqual(encodeValue(rows));
    expect(decodeValue(encodeRows(rows))).toEqual(rows);
  });
});
