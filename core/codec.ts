import { C1, Packr } from "msgpackr";

/**
 * The msgpack settings of TopGun's serializer (PROTOCOL.md §1.4), spelled out instead of relying on
 * msgpackr's defaults, which a `new Packr()` does not share with the module-level `pack` (a Packr turns
 * records on). `useRecords: false` writes every object as a map16 (`de 00 NN`) and decodes maps as plain
 * objects; `int64AsType: "number"` reads Rust's uint64 millis (`cf`) as Numbers; no structured clone, no
 * extra types, no float32, so numbers keep TopGun's encoding (ints below 2^32 compact, the rest float64).
 */
const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  structuredClone: false,
  moreTypes: false,
  variableMapSize: false,
  bundleStrings: false,
  int64AsType: "number",
});

/**
 * Encodes one message as TopGun does: `undefined` is stripped first (object keys dropped, array elements
 * and a top-level value become null), because msgpackr writes it as ext type 0, which Rust cannot read.
 */
export function encodeMessage(message: unknown): Uint8Array {
  // msgpackr returns a view into a shared, reused buffer; a copy gives callers a Uint8Array that owns
  // exactly its bytes, so handing `.buffer` to a socket or SQLite cannot leak neighbouring messages.
  return new Uint8Array(packr.pack(hasUndefined(message) ? stripUndefined(message) : message));
}

/**
 * Decodes one message. Throws on truncated input, trailing bytes, an unknown extension, the reserved byte
 * 0xc1 or a map key that cannot be a property name; callers treat any throw as an undecodable frame.
 * 64-bit integers come back as Numbers and binary as plain `Uint8Array`s.
 */
export function decodeMessage(bytes: Uint8Array): unknown {
  const value: unknown = packr.unpack(bytes);
  return normalizeDecoded(value);
}

/** Encodes a record value for storage with the wire codec, so binary and falsy values survive unchanged. */
export function encodeValue(value: unknown): Uint8Array {
  return encodeMessage(value);
}

/**
 * Encodes rows the server builds for its own storage (the write log's and the journal's batch rows): no `undefined`
 * can be in them, so the walk {@link encodeMessage} makes for it is skipped. Read back with {@link decodeValue}.
 */
export function encodeRows(rows: readonly unknown[][]): Uint8Array {
  return new Uint8Array(packr.pack(rows));
}

/** Decodes a value written by {@link encodeValue}. */
export function decodeValue(bytes: Uint8Array): unknown {
  return decodeMessage(bytes);
}

/** Whether `value` holds `undefined` where stripUndefined would change it (checked first: most messages hold none, and the copy costs more than the walk). */
function hasUndefined(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === undefined || (typeof item === "object" && item !== null && hasUndefined(item))) return true;
    }
    return false;
  }
  if (!isPlainObject(value)) return false;
  for (const key of Object.keys(value)) {
    const item = value[key];
    // Primitives other than undefined need no call (the walk runs on every message and stored value).
    if (item === undefined || (typeof item === "object" && item !== null && hasUndefined(item))) return true;
  }
  return false;
}

function stripUndefined(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(stripUndefined);
  if (!isPlainObject(value)) return value;
  const stripped: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) stripped[key] = stripUndefined(item);
  }
  return stripped;
}

/** BigInts become Numbers (as TopGun's serializer does), binary a detached plain Uint8Array, 0xc1 an error. */
function normalizeDecoded(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (typeof value !== "object" || value === null) return value;
  if (value === C1) throw new Error("msgpack: reserved byte 0xc1");
  // In Node msgpackr yields Buffers that view the input frame; a plain copy behaves the same in every
  // runtime (a Buffer's toJSON would change the OR-Map entry hash) and does not pin the frame in memory.
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (needsNormalizing(item)) value[i] = normalizeDecoded(item);
    }
    return value;
  }
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      const item = value[key];
      // Strings, numbers and booleans stay as they are: no call, no write back.
      if (needsNormalizing(item)) value[key] = normalizeDecoded(item);
    }
  }
  return value;
}

function needsNormalizing(item: unknown): boolean {
  return typeof item === "bigint" || (typeof item === "object" && item !== null);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
