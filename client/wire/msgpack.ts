// The client's msgpack codec: @msgpack/msgpack (a few KB in the bundle; msgpackr, which the server keeps, is
// ~10 KB gzipped more). It writes what core's codec (core/codec.ts) reads: `undefined` dropped from maps and
// written as nil elsewhere, binary as bin; 64-bit integers are read back as Numbers. msgpack.test.ts checks both
// directions against core.
import { Decoder, Encoder } from "@msgpack/msgpack";

const encoder = new Encoder({ ignoreUndefined: true, useBigInt64: true });
const decoder = new Decoder();

/** Encodes one message or value. */
export function encodeMsgpack(value: unknown): Uint8Array {
  return encoder.encode(value === undefined ? null : value);
}

/** Decodes one message or value; throws on truncated input, trailing bytes, 0xc1 or an unknown extension. */
export function decodeMsgpack(bytes: Uint8Array): unknown {
  return decoder.decode(bytes);
}
