import { fnv1a } from "./hash.ts";
import type { ORMapRecord } from "./or-record.ts";

/**
 * The OR-Map Merkle entry hash of one key, computed exactly as TopGun's TS client (`hashORMapEntry`,
 * PROTOCOL.md §7.4) so that real clients' OR-Map roots converge with ours. Pass every stored record of
 * the key, expired ones included; the result does not depend on their order.
 */
export function orEntryHash(key: string, records: readonly ORMapRecord[]): number {
  // Plain `<` on strings is the same UTF-16 code-unit order as the client's default `sort()`.
  const sorted = [...records].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  const parts = [`key:${key}`];
  for (const { tag, value, timestamp, ttlMs } of sorted) {
    let part = `${tag}:${valueText(value)}:${timestamp.millis}:${timestamp.counter}:${timestamp.nodeId}`;
    // `!== undefined`, as in the client: a `ttlMs: null` read off the wire hashes as ":ttl=null".
    if (ttlMs !== undefined) part += `:ttl=${ttlMs}`;
    parts.push(part);
  }
  return fnv1a(parts.join("|"));
}

/**
 * The client's text for a value. Objects and arrays go through `JSON.stringify(v, Object.keys(v).sort())`:
 * the sorted top-level keys act as a property whitelist at every depth, so nested keys outside that list
 * vanish. That is a client quirk, reproduced on purpose, because matching hashes matter more than sense.
 */
function valueText(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object") return String(JSON.stringify(value, Object.keys(value).sort()));
  return String(value);
}
