const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** TopGun's FNV-1a: 32-bit, over UTF-16 code units (not UTF-8), unsigned result. */
export function fnv1a(text: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/** a + b mod 2^32. */
export function addHash(a: number, b: number): number {
  return (a + b) >>> 0;
}

/** a − b mod 2^32. */
export function subtractHash(a: number, b: number): number {
  return (a - b) >>> 0;
}

/** The sum of hashes mod 2^32 (order does not matter; empty is 0). */
export function combineHashes(hashes: Iterable<number>): number {
  let sum = 0;
  for (const hash of hashes) sum = (sum + hash) >>> 0;
  return sum;
}
