// Built-in entry processors (PROTOCOL.md Part A 11): pure functions from a key's current value and `args` to a
// result and the write to make. Workers cannot sandbox arbitrary code, so `processor.name` picks one of these and
// `processor.code` is ignored.

/** What a processor decided: a result for the caller and, when the value changes, the write to make. */
export type ProcessorOutcome =
  | { ok: true; result: unknown; newValue: unknown; write: { value: unknown } | { delete: true } | undefined }
  | { ok: false; error: string };

type Processor = (current: unknown, args: unknown) => ProcessorOutcome;

const fail = (error: string): ProcessorOutcome => ({ ok: false, error });
const put = (value: unknown, result: unknown = value): ProcessorOutcome => ({ ok: true, result, newValue: value, write: { value } });
const keep = (current: unknown, result: unknown): ProcessorOutcome => ({ ok: true, result, newValue: current, write: undefined });
const remove = (result: unknown): ProcessorOutcome => ({ ok: true, result, newValue: undefined, write: { delete: true } });

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** Structural equality of msgpack-decoded values (objects by own keys, arrays and byte arrays element-wise). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * The built-ins. `current` is undefined when the key is absent or a tombstone. Results: increment/append/merge
 * answer the new value; setIfAbsent/compareAndSet whether they wrote; delete whether a live value was removed.
 */
const PROCESSORS: Record<string, Processor> = {
  /** args: a finite number (default 1); an absent value counts as 0. */
  increment(current, args) {
    const by = args === undefined || args === null ? 1 : args;
    if (typeof by !== "number" || !Number.isFinite(by)) return fail("increment: args must be a finite number");
    const base = current === undefined ? 0 : current;
    if (typeof base !== "number") return fail(`increment: current value is not a number (${describe(current)})`);
    return put(base + by);
  },
  /** To a string: args must be a string. To an array (or an absent value): args is pushed; an array args is concatenated. */
  append(current, args) {
    if (args === undefined) return fail("append: args is required");
    if (typeof current === "string") {
      if (typeof args !== "string") return fail("append: appending to a string needs a string args");
      return put(current + args);
    }
    if (current === undefined) return put(typeof args === "string" ? args : Array.isArray(args) ? [...args] : [args]);
    if (Array.isArray(current)) return put(Array.isArray(args) ? [...current, ...args] : [...current, args]);
    return fail(`append: current value is neither an array nor a string (${describe(current)})`);
  },
  /** Shallow merge of the object args into the current object (or into {} when absent). */
  merge(current, args) {
    if (!isPlainObject(args)) return fail("merge: args must be an object");
    if (current === undefined) return put({ ...args });
    if (!isPlainObject(current)) return fail(`merge: current value is not an object (${describe(current)})`);
    return put({ ...current, ...args });
  },
  /** Writes args when the key has no live value. */
  setIfAbsent(current, args) {
    if (args === undefined || args === null) return fail("setIfAbsent: args (the value) is required");
    return current === undefined ? put(args, true) : keep(current, false);
  },
  /** args {expected, value}: writes `value` (deletes when null) when the current value deep-equals `expected` (null/absent = no value). */
  compareAndSet(current, args) {
    if (!isPlainObject(args) || !Object.hasOwn(args, "expected")) return fail("compareAndSet: args must be {expected, value}");
    const expected = args.expected ?? undefined;
    if (!deepEqual(current, expected)) return keep(current, false);
    const value = args.value ?? undefined;
    if (value === undefined) return current === undefined ? keep(undefined, true) : remove(true);
    return put(value, true);
  },
  /** Removes the value (a tombstone); result is whether there was one. */
  delete(current) {
    return current === undefined ? keep(undefined, false) : remove(true);
  },
};

export const BUILTIN_PROCESSORS: readonly string[] = Object.keys(PROCESSORS);

export function isBuiltinProcessor(name: string): boolean {
  return Object.hasOwn(PROCESSORS, name);
}

export function unknownProcessorError(name: string): string {
  return `unknown entry processor "${name}": TopGun Edge runs built-in processors only (${BUILTIN_PROCESSORS.join(", ")}); custom code is not supported`;
}

/** Runs a built-in processor on one key's current value. */
export function runProcessor(name: string, current: unknown, args: unknown): ProcessorOutcome {
  if (!isBuiltinProcessor(name)) return fail(unknownProcessorError(name));
  return PROCESSORS[name]!(current === null ? undefined : current, args);
}

function describe(value: unknown): string {
  return Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
}
