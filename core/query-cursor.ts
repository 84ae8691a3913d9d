// Query cursors (PROTOCOL.md Part A 7): an opaque base64 string naming the last entry of a page by its sort
// position, so the next page continues the same predicate, sort and limit. Runtime-free.
import { z } from "zod";
import type { SortPosition, SortSpec } from "./predicate.ts";

const cursorSchema = z.object({
  s: z.array(z.tuple([z.string(), z.string()])),
  v: z.array(z.union([z.number(), z.string(), z.boolean(), z.null()])),
  k: z.string(),
});

/** Encodes the position of a page's last entry; `sort` is recorded so a cursor cannot continue another order. */
export function encodeCursor(sort: SortSpec | undefined, position: SortPosition): string {
  const json = JSON.stringify({ s: Object.entries(sort ?? {}), v: position.values, k: position.key });
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
  const result = cursorSchema.safeParse(parsed);
  if (!result.success) return undefined;
  const { s, v, k } = result.data;
  if (JSON.stringify(s) !== JSON.stringify(Object.entries(sort ?? {})) || v.length !== s.length) return undefined;
  return { values: v, key: k };
}
