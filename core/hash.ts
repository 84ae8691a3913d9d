const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * TopGun's 32-bit FNV-1a over UTF-16 code units (not UTF-8), as an unsigned number. Every Merkle path,
 * entry hash and partition in the protocol is derived from it.
 */
export function fnv1a(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    // Math.imul keeps the product exact mod 2^32; a plain `*` would lose low bits past 2^53.
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/** `a + b` mod 2^32, unsigned. */
export function addHash(a: number, b: number): number {
  return (a + b) >>> 0;
}

/** `a − b` mod 2^32, unsigned: undoes {@link addHash}. */
export function subtractHash(a: number, b: number): number {
  return (a - b) >>> 0;
}

/** The sum of `hashes` mod 2^32: a Merkle node's hash. Order does not matter; no hashes gives 0. */
export function combineHashes(hashes: Iterable<number>): number {
  let sum = 0;
  for (const hash of hashes) sum = (sum + hash) >>> 0;
  return sum;
}
