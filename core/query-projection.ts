// Field projection of query results (PROTOCOL-NEXT.md §4.2). Runtime-free.
import { isValueMap } from "./predicate.ts";

/** The value with only the listed top-level fields (in the value's order); a non-map value is unchanged. */
export function projectValue(value: unknown, fields: readonly string[] | undefined): unknown {
  if (fields === undefined || !isValueMap(value)) return value;
  const wanted = new Set(fields);
  return Object.fromEntries(Object.entries(value).filter(([field]) => wanted.has(field)));
}
