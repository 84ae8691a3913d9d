import { fnv1a } from "./hash.ts";
import type { ORMapRecord } from "./or-map.ts";

/**
 * The OR-Map Merkle entry hash of TopGun's TS client (`hashORMapEntry`, PROTOCOL.md §7.4), so that real clients'
 * roots match the server's: "key:<key>" then, per tag in code-unit order, "tag:value:millis:counter:nodeId"
 * (plus ":ttl=<ttl>"), joined with "|".
 */
export function orEntryHash(key: string, records: readonly ORMapRecord[]): number {
  const parts = [`key:${key}`];
  const sorted = [...records].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  for (const record of sorted) {
    const { millis, counter, nodeId } = record.timestamp;
    let part = `${record.tag}:${valueString(record.value)}:${millis}:${counter}:${nodeId}`;
    if (record.ttlMs !== undefined) part += `:ttl=${record.ttlMs}`;
    parts.push(part);
  }
  return fnv1a(parts.join("|"));
}

/**
 * The client's value text: primitives as String(v); objects and arrays as JSON.stringify(v, sortedTopLevelKeys),
 * a quirk that uses the top-level keys as a whitelist at every depth. Reproduced exactly, on purpose.
 */
function valueString(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "object") return String(JSON.stringify(value, Object.keys(value).sort()));
  return String(value);
}
