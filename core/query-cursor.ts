// Query cursors (PROTOCOL.md Part A 7): an opaque base64 string naming the last entry of a page by its sort
// position, so the next page continues the same predicate, sort and limit. Runtime-free.
// Checked by hand rather than with zod, so the client SDK, which decodes cursors too, does not bundle zod.
import { sortKeysOf, type SortPosition, type SortSpec } from "./predicate.ts";

type SortValue = SortPosition["values"][number];

/** The decoded JSON of a cursor: `s` the sort entries, `v` the sort values, `k` the key. */
interface CursorFields {
  s: [string, string][];
  v: SortValue[];
  k: string;
}

/** Encodes the position of a page's last entry; `sort` is recorded so a cursor cannot continue another order. */
export function encodeCursor(sort: SortSpec | undefined, position: SortPosition): string {
  const json = JSON.stringify({ s: sortPairs(sort), v: position.values, k: position.key });
  const bytes = new TextEncoder().encode(json);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The position a cursor names, or undefined when it is not a cursor of this sort. */
export function decodeCursor(sort: SortSpec | undefined, cursor: string): SortPosition | undefined {
  let parsed: unknown;
  try {
    const binary = atob(cursor);
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    return undefined; // Not base64 or not JSON: not one of ours.
  }
  if (!isCursorFields(parsed)) return undefined;
  const { s, v, k } = parsed;
  if (JSON.stringify(s) !== JSON.stringify(sortPairs(sort)) || v.length !== s.length) return undefined;
  return { values: v, key: k };
}

function isCursorFields(value: unknown): value is CursorFields {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  if (!("s" in value) || !("v" in value) || !("k" in value)) return false;
  const { s, v, k } = value;
  return typeof k === "string" && Array.isArray(s) && s.every(isSortEntry) && Array.isArray(v) && v.every(isSortValue);
}

function isSortEntry(entry: unknown): entry is [string, string] {
  return Array.isArray(entry) && entry.length === 2 && typeof entry[0] === "string" && typeof entry[1] === "string";
}

function isSortValue(value: unknown): value is SortValue {
  return value === null || typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));
}

/** The sort as `[field, direction]` pairs: the same for both wire forms of one order. */
function sortPairs(sort: SortSpec | undefined): [string, string][] {
  return sortKeysOf(sort).map(({ field, direction }) => [field, direction]);
}
