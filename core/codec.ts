import { Packr } from "msgpackr";

/**
 * TopGun's msgpack settings (PROTOCOL.md §1.4): plain maps decoded as objects, no record extension, no structured
 * clone; 64-bit integers decode as numbers (Rust sends millis as uint64).
 */
const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: "number", moreTypes: false });

/** Encodes one message: `undefined` is stripped first (msgpackr would write ext 0, which Rust cannot read). */
export function encodeMessage(message: unknown): Uint8Array {
  return packr.pack(stripUndefined(message));
}

/** Decodes one message; throws on malformed or truncated input. */
export function decodeMessage(bytes: Uint8Array): unknown {
  return toNumbers(packr.unpack(bytes));
}

/** Encodes a record value for storage (lossless: binary stays binary). */
export function encodeValue(value: unknown): Uint8Array {
  return encodeMessage(value);
}

export function decodeValue(bytes: Uint8Array): unknown {
  return decodeMessage(bytes);
}

function stripUndefined(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : stripUndefined(item)));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = stripUndefined(item);
    return out;
  }
  return value;
}

function toNumbers(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = toNumbers(value[i]);
    return value;
  }
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) value[key] = toNumbers(value[key]);
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
