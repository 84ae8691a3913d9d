// A small validator for decoded server messages: each guard narrows `unknown` to a wire type without copying it,
// and on failure records where in `trail` (outermost key first). The server validates everything it receives
// with core's schemas; the client only needs to know that a frame has the shape its handlers read, at a cost in
// bundle bytes that follows what it checks (core's zod schemas are ~450 KB minified).

/** Narrows a decoded value; on failure, the keys leading to the offending value are prepended to `trail`. */
export type Guard<T> = (value: unknown, trail: string[]) => value is T;

/** A field that may be absent; see {@link objectOf} for how nil reads. */
export type OptionalGuard<T> = Guard<T | undefined> & { readonly optional: true };

type Shape = Record<string, Guard<unknown>>;
type Guarded<G> = G extends Guard<infer T> ? T : never;
type Simplify<T> = { [K in keyof T]: T[K] };

/** The object type a shape describes: fields whose guard is optional become optional properties. */
export type Shaped<S extends Shape> = Simplify<
  { [K in keyof S as S[K] extends { optional: true } ? never : K]: Guarded<S[K]> } & {
    [K in keyof S as S[K] extends { optional: true } ? K : never]?: Exclude<Guarded<S[K]>, undefined>;
  }
>;

export const isString: Guard<string> = (value): value is string => typeof value === "string";

export const isBoolean: Guard<boolean> = (value): value is boolean => typeof value === "boolean";

/** A finite number, as zod's `z.number()` accepts. */
export const isNumber: Guard<number> = (value): value is number => typeof value === "number" && Number.isFinite(value);

/** A whole number ≥ 0 that a JS number holds exactly (the wire's u32 and u64 fields; the codec turns BigInts into numbers). */
export const isUnsigned: Guard<number> = (value): value is number => Number.isSafeInteger(value) && Number(value) >= 0;

/** A whole number that a JS number holds exactly (i64). */
export const isInteger: Guard<number> = (value): value is number => Number.isSafeInteger(value);

/** Anything, null included (a record's value, a topic's data). */
export const isAnything: Guard<unknown> = (_value): _value is unknown => true;

/** Binary data; the codec hands out plain copies, each over its own ArrayBuffer. */
export const isBinary: Guard<Uint8Array<ArrayBuffer>> = (value): value is Uint8Array<ArrayBuffer> =>
  value instanceof Uint8Array && value.buffer instanceof ArrayBuffer;

/** A plain msgpack map. */
export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** One of the listed strings. */
export function oneOf<const L extends readonly string[]>(...literals: L): Guard<L[number]> {
  return (value): value is L[number] => typeof value === "string" && literals.includes(value);
}

/** Absent, or what `guard` accepts. */
export function optional<T>(guard: Guard<T>): OptionalGuard<T> {
  return Object.assign((value: unknown, trail: string[]): value is T | undefined => value === undefined || guard(value, trail), {
    optional: true as const,
  });
}

/** A list whose every item `guard` accepts. */
export function arrayOf<T>(guard: Guard<T>): Guard<T[]> {
  return (value, trail): value is T[] => {
    if (!Array.isArray(value)) return false;
    for (let i = 0; i < value.length; i++) {
      if (!guard(value[i], trail)) return fail(trail, String(i));
    }
    return true;
  };
}

/** A map from strings to what `guard` accepts. */
export function recordOf<T>(guard: Guard<T>): Guard<Record<string, T>> {
  return (value, trail): value is Record<string, T> => {
    if (!isMap(value)) return false;
    for (const key in value) {
      if (Object.hasOwn(value, key) && !guard(value[key], trail)) return fail(trail, key);
    }
    return true;
  };
}

/**
 * A map with the fields of `shape`. Unknown keys are left in place (the client reads only the fields it knows).
 * Some senders write nil for an absent field, so an optional field holding null that its guard refuses is
 * deleted, as core's `optionalField` reads it; a field whose guard accepts null (a value) keeps it.
 */
export function objectOf<S extends Shape>(shape: S): Guard<Shaped<S>> {
  const fields = Object.entries(shape);
  return (value, trail): value is Shaped<S> => {
    if (!isMap(value)) return false;
    for (const [key, guard] of fields) {
      const field = value[key];
      if (guard(field, trail)) continue;
      if (field === null && "optional" in guard) {
        delete value[key];
        continue;
      }
      return fail(trail, key);
    }
    return true;
  };
}

/** Prepends `keys` (outermost first) to the failure trail and fails. */
export function fail(trail: string[], ...keys: string[]): false {
  trail.unshift(...keys);
  return false;
}
