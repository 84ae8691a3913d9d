/**
 * A getSnapshot for useSyncExternalStore over a handle whose `entries()` builds a new array on every call:
 * returns the previous array while the entries are the same, so React sees a stable value and does not loop.
 * Comparing contents (rather than counting change events) also catches changes made before React subscribed.
 */
export function entriesSnapshot<V>(read: () => [string, V][], isSameValue: (a: V, b: V) => boolean): () => [string, V][] {
  let previous: [string, V][] | undefined;
  return () => {
    const next = read();
    if (previous !== undefined && isSameEntries(previous, next, isSameValue)) return previous;
    previous = next;
    return next;
  };
}

function isSameEntries<V>(a: [string, V][], b: [string, V][], isSameValue: (a: V, b: V) => boolean): boolean {
  if (a.length !== b.length) return false;
  return a.every(([key, value], i) => {
    const other = b[i];
    return other !== undefined && other[0] === key && isSameValue(value, other[1]);
  });
}

/** Same values in the same order, each compared with Object.is (the values of an OR map key). */
export function isSameList<V>(a: V[], b: V[]): boolean {
  return a.length === b.length && a.every((value, i) => Object.is(value, b[i]));
}
