import type { ChangeType } from "../core/protocol/shared.ts";

/** One change of a live result set. A LEAVE carries the value the entry had. */
export interface ResultChange<V> {
  key: string;
  value: V;
  changeType: ChangeType;
}

/** The ENTER/UPDATE/LEAVE changes that turn `before` into `after` (values compared structurally). */
export function diffResults<V>(before: ReadonlyMap<string, V>, after: ReadonlyMap<string, V>): ResultChange<V>[] {
  const changes: ResultChange<V>[] = [];
  for (const [key, value] of before) {
    if (!after.has(key)) changes.push({ key, value, changeType: "LEAVE" });
  }
  for (const [key, value] of after) {
    if (!before.has(key)) changes.push({ key, value, changeType: "ENTER" });
    else if (!isSameValue(before.get(key), value)) changes.push({ key, value, changeType: "UPDATE" });
  }
  return changes;
}

/** Structural equality of msgpack-shaped values (primitives, arrays, plain objects, byte arrays). */
export function isSameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    return a.every((byte, i) => byte === b[i]);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => isSameValue(item, b[i]));
  }
  const entriesA = Object.entries(a);
  const fieldsB = new Map(Object.entries(b));
  if (entriesA.length !== fieldsB.size) return false;
  return entriesA.every(([field, value]) => fieldsB.has(field) && isSameValue(value, fieldsB.get(field)));
}
