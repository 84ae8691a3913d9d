// Blobs travel to SQLite inside JSON parameters as hex (see bulkInsert in sql-port.ts and the journal's batch rows).

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}

/** Bytes of a hex string (either case, as JS and SQLite's hex() write it); a trailing odd digit is ignored. */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.substr(2 * i, 2), 16);
  return out;
}
