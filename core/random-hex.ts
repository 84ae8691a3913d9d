/**
 * `length` random lowercase hex digits from the Web Crypto API. getRandomValues works in every runtime the project
 * targets, including plain-http pages (a LAN address), where browsers withhold crypto.randomUUID.
 */
export function randomHex(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(length / 2)));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("").slice(0, length);
}
