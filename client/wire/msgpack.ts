// The client's msgpack codec: the subset of the format the wire uses, in a few KB (msgpackr, which the server
// keeps, is ~33 KB minified). It reads every msgpack type, and writes what core's codec (core/codec.ts) writes
// as far as a reader can tell: integers below 2^32 compactly and other numbers as float64, `undefined` dropped
// from maps and written as nil elsewhere, binary as bin, Dates as the timestamp extension (-1), BigInts as
// 64-bit integers, and 64-bit integers read back as Numbers. msgpack.test.ts checks both directions against core.

const TIMESTAMP_EXTENSION = 0xff; // -1
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes one message or value. */
export function encodeMsgpack(value: unknown): Uint8Array {
  const writer = new Writer();
  writer.value(value === undefined ? null : value);
  return writer.finish();
}

/** Decodes one message or value; throws on truncated input, trailing bytes, 0xc1 or an unknown extension. */
export function decodeMsgpack(bytes: Uint8Array): unknown {
  const reader = new Reader(bytes);
  const value = reader.value();
  if (reader.offset !== bytes.byteLength) throw new Error(`msgpack: ${bytes.byteLength - reader.offset} trailing bytes`);
  return value;
}

class Writer {
  #bytes = new Uint8Array(256);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;

  finish(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }

  value(value: unknown): void {
    if (value === null || value === undefined) this.#byte(0xc0);
    else if (typeof value === "boolean") this.#byte(value ? 0xc3 : 0xc2);
    else if (typeof value === "number") this.#number(value);
    else if (typeof value === "string") this.#string(value);
    else if (typeof value === "bigint") this.#bigint(value);
    else if (value instanceof Uint8Array) this.#binary(value);
    else if (Array.isArray(value)) this.#array(value);
    else if (value instanceof Date) this.#date(value);
    else if (value instanceof Map) this.#entries([...value.entries()]);
    else if (typeof value === "object") this.#object(value);
    else throw new TypeError(`msgpack: cannot encode a ${typeof value}`);
  }

  #number(value: number): void {
    if (Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff) {
      if (value < 0x80) this.#byte(value);
      else if (value < 0x100) this.#header(0xcc, 1, value);
      else if (value < 0x10000) this.#header(0xcd, 2, value);
      else this.#header(0xce, 4, value);
    } else if (Number.isInteger(value) && value < 0 && value >= -0x8000_0000) {
      if (value >= -0x20) this.#byte(value & 0xff);
      else if (value >= -0x80) this.#signed(0xd0, 1, value);
      else if (value >= -0x8000) this.#signed(0xd1, 2, value);
      else this.#signed(0xd2, 4, value);
    } else {
      this.#reserve(9);
      this.#bytes[this.#length] = 0xcb;
      this.#view.setFloat64(this.#length + 1, value);
      this.#length += 9;
    }
  }

  #bigint(value: bigint): void {
    this.#reserve(9);
    this.#bytes[this.#length] = value < 0n ? 0xd3 : 0xcf;
    if (value < 0n) this.#view.setBigInt64(this.#length + 1, value);
    else this.#view.setBigUint64(this.#length + 1, value);
    this.#length += 9;
  }

  /**
   * The header is chosen from the most bytes the string can take (3 per UTF-16 unit), so the text is written
   * once, in place; a header wider than needed is still valid msgpack (msgpackr does the same).
   */
  #string(value: string): void {
    const most = value.length * 3;
    const headerSize = most < 32 ? 1 : most < 0x100 ? 2 : most < 0x10000 ? 3 : 5;
    this.#reserve(headerSize + most);
    const start = this.#length + headerSize;
    const written = most < 0x100 ? this.#shortText(value, start) : encoder.encodeInto(value, this.#bytes.subarray(start)).written;
    if (headerSize === 1) this.#bytes[this.#length] = 0xa0 | written;
    else if (headerSize === 2) this.#view.setUint16(this.#length, (0xd9 << 8) | written);
    else if (headerSize === 3) {
      this.#bytes[this.#length] = 0xda;
      this.#view.setUint16(this.#length + 1, written);
    } else {
      this.#bytes[this.#length] = 0xdb;
      this.#view.setUint32(this.#length + 1, written);
    }
    this.#length = start + written;
  }

  /** Writes a short string's UTF-8 at `at` by hand (faster than the encoder for the keys and ids of messages). */
  #shortText(value: string, at: number): number {
    const bytes = this.#bytes;
    let offset = at;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code < 0x80) {
        bytes[offset++] = code;
        continue;
      }
      return encoder.encodeInto(value, bytes.subarray(at)).written;
    }
    return offset - at;
  }

  #binary(value: Uint8Array): void {
    this.#sized(value.byteLength, [0xc4, 0xc5, 0xc6]);
    this.#raw(value);
  }

  #array(items: readonly unknown[]): void {
    if (items.length < 16) this.#byte(0x90 | items.length);
    else this.#sized(items.length, [undefined, 0xdc, 0xdd]);
    for (const item of items) this.value(item === undefined ? null : item);
  }

  /** A map of the object's own enumerable keys whose value is not `undefined`. */
  #object(object: object): void {
    let size = 0;
    for (const key in object) {
      if (Object.hasOwn(object, key) && Reflect.get(object, key) !== undefined) size++;
    }
    this.#mapHeader(size);
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue;
      const value: unknown = Reflect.get(object, key);
      if (value === undefined) continue;
      this.#string(key);
      this.value(value);
    }
  }

  #entries(entries: [unknown, unknown][]): void {
    const kept = entries.filter(([, value]) => value !== undefined);
    this.#mapHeader(kept.length);
    for (const [key, value] of kept) {
      this.value(key);
      this.value(value);
    }
  }

  #mapHeader(size: number): void {
    if (size < 16) this.#byte(0x80 | size);
    else this.#sized(size, [undefined, 0xde, 0xdf]);
  }

  /** The timestamp extension: 32-bit seconds when they fit, else 64-bit (30-bit nanoseconds, 34-bit seconds), else 96-bit. */
  #date(date: Date): void {
    const millis = date.getTime();
    const seconds = Math.floor(millis / 1000);
    const nanos = (millis - seconds * 1000) * 1_000_000;
    if (nanos === 0 && seconds >= 0 && seconds < 2 ** 32) {
      this.#raw(Uint8Array.of(0xd6, TIMESTAMP_EXTENSION));
      this.#header(undefined, 4, seconds);
    } else if (seconds >= 0 && seconds < 2 ** 34) {
      this.#raw(Uint8Array.of(0xd7, TIMESTAMP_EXTENSION));
      this.#header(undefined, 4, nanos * 4 + Math.floor(seconds / 2 ** 32));
      this.#header(undefined, 4, seconds >>> 0);
    } else {
      this.#raw(Uint8Array.of(0xc7, 12, TIMESTAMP_EXTENSION));
      this.#header(undefined, 4, nanos);
      this.#reserve(8);
      this.#view.setBigInt64(this.#length, BigInt(seconds));
      this.#length += 8;
    }
  }

  /** A length after the first of `codes` (8, 16, 32-bit lengths) that holds it. */
  #sized(length: number, codes: [number | undefined, number, number]): void {
    const [code8, code16, code32] = codes;
    if (code8 !== undefined && length < 0x100) this.#header(code8, 1, length);
    else if (length < 0x10000) this.#header(code16, 2, length);
    else this.#header(code32, 4, length);
  }

  /** An optional type byte, then `value` as a big-endian unsigned integer of `size` bytes. */
  #header(code: number | undefined, size: 1 | 2 | 4, value: number): void {
    if (code !== undefined) this.#byte(code);
    this.#reserve(size);
    if (size === 1) this.#view.setUint8(this.#length, value);
    else if (size === 2) this.#view.setUint16(this.#length, value);
    else this.#view.setUint32(this.#length, value);
    this.#length += size;
  }

  #signed(code: number, size: 1 | 2 | 4, value: number): void {
    this.#byte(code);
    this.#reserve(size);
    if (size === 1) this.#view.setInt8(this.#length, value);
    else if (size === 2) this.#view.setInt16(this.#length, value);
    else this.#view.setInt32(this.#length, value);
    this.#length += size;
  }

  #byte(byte: number): void {
    this.#reserve(1);
    this.#bytes[this.#length++] = byte;
  }

  #raw(bytes: Uint8Array): void {
    this.#reserve(bytes.byteLength);
    this.#bytes.set(bytes, this.#length);
    this.#length += bytes.byteLength;
  }

  #reserve(size: number): void {
    if (this.#length + size <= this.#bytes.byteLength) return;
    const grown = new Uint8Array(Math.max(this.#bytes.byteLength * 2, this.#length + size));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }
}

class Reader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  value(): unknown {
    const type = this.#uint(1);
    if (type < 0x80) return type;
    if (type < 0x90) return this.#map(type & 0x0f);
    if (type < 0xa0) return this.#array(type & 0x0f);
    if (type < 0xc0) return this.#string(type & 0x1f);
    if (type >= 0xe0) return type - 0x100;
    switch (type) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.#binary(this.#uint(1));
      case 0xc5: return this.#binary(this.#uint(2));
      case 0xc6: return this.#binary(this.#uint(4));
      case 0xc7: return this.#extension(this.#uint(1));
      case 0xc8: return this.#extension(this.#uint(2));
      case 0xc9: return this.#extension(this.#uint(4));
      case 0xca: return this.#float(4);
      case 0xcb: return this.#float(8);
      case 0xcc: return this.#uint(1);
      case 0xcd: return this.#uint(2);
      case 0xce: return this.#uint(4);
      case 0xcf: return Number(this.#view.getBigUint64(this.#advance(8)));
      case 0xd0: return this.#view.getInt8(this.#advance(1));
      case 0xd1: return this.#view.getInt16(this.#advance(2));
      case 0xd2: return this.#view.getInt32(this.#advance(4));
      case 0xd3: return Number(this.#view.getBigInt64(this.#advance(8)));
      case 0xd4: return this.#extension(1);
      case 0xd5: return this.#extension(2);
      case 0xd6: return this.#extension(4);
      case 0xd7: return this.#extension(8);
      case 0xd8: return this.#extension(16);
      case 0xd9: return this.#string(this.#uint(1));
      case 0xda: return this.#string(this.#uint(2));
      case 0xdb: return this.#string(this.#uint(4));
      case 0xdc: return this.#array(this.#uint(2));
      case 0xdd: return this.#array(this.#uint(4));
      case 0xde: return this.#map(this.#uint(2));
      case 0xdf: return this.#map(this.#uint(4));
      default: throw new Error("msgpack: reserved byte 0xc1");
    }
  }

  #map(size: number): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    for (let i = 0; i < size; i++) {
      const key = this.value();
      if (typeof key !== "string" && typeof key !== "number") throw new Error("msgpack: a map key must be a string or a number");
      const value = this.value();
      // A plain assignment of "__proto__" would set the prototype instead of a key.
      if (key === "__proto__") Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
      else map[key] = value;
    }
    return map;
  }

  #array(size: number): unknown[] {
    const items: unknown[] = [];
    for (let i = 0; i < size; i++) items.push(this.value());
    return items;
  }

  /** Short ASCII strings (keys, ids, names) are read by hand; the decoder's call costs more than they do. */
  #string(size: number): string {
    const start = this.#advance(size);
    if (size > 32) return decoder.decode(this.#bytes.subarray(start, start + size));
    let text = "";
    for (let i = start; i < start + size; i++) {
      const byte = this.#bytes[i] ?? 0;
      if (byte >= 0x80) return decoder.decode(this.#bytes.subarray(start, start + size));
      text += String.fromCharCode(byte);
    }
    return text;
  }

  #binary(size: number): Uint8Array {
    const start = this.#advance(size);
    return this.#bytes.slice(start, start + size);
  }

  #float(size: 4 | 8): number {
    const at = this.#advance(size);
    return size === 4 ? this.#view.getFloat32(at) : this.#view.getFloat64(at);
  }

  #extension(size: number): Date {
    const type = this.#uint(1);
    if (type !== TIMESTAMP_EXTENSION) throw new Error(`msgpack: unknown extension ${type}`);
    if (size === 4) return new Date(this.#uint(4) * 1000);
    if (size === 8) {
      const high = this.#uint(4);
      const low = this.#uint(4);
      return new Date(((high % 4) * 2 ** 32 + low) * 1000 + Math.floor(high / 4) / 1_000_000);
    }
    if (size === 12) {
      const nanos = this.#uint(4);
      const seconds = Number(this.#view.getBigInt64(this.#advance(8)));
      return new Date(seconds * 1000 + nanos / 1_000_000);
    }
    throw new Error(`msgpack: a timestamp of ${size} bytes`);
  }

  #uint(size: 1 | 2 | 4): number {
    const at = this.#advance(size);
    return size === 1 ? (this.#bytes[at] ?? 0) : size === 2 ? this.#view.getUint16(at) : this.#view.getUint32(at);
  }

  /** Moves past `size` bytes that must be there and returns where they start. */
  #advance(size: number): number {
    const at = this.offset;
    if (at + size > this.#bytes.byteLength) throw new Error("msgpack: truncated input");
    this.offset = at + size;
    return at;
  }
}
