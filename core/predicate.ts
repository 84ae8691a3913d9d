// Query evaluation of the TS core (PROTOCOL.md §10.2, TS semantics; Part A 7): filters, multi-key sort, and the
// sort position that query cursors carry. Runtime-free.
import type { PredicateNode, Query, Sort } from "./protocol/shared.ts";

/** A record of a query result. */
export interface QueryEntry {
  key: string;
  value: unknown;
}

/** `sort` in either wire form: the ordered `[{field, direction}]` array or the v0.12 map. */
export type SortSpec = Sort;

/** One sort key, in priority order. */
export interface SortKey {
  field: string;
  direction: "asc" | "desc";
}

/** The sort keys of either form, in priority order (array position, or the map's key order). */
export function sortKeysOf(sort: SortSpec | undefined): SortKey[] {
  if (sort === undefined) return [];
  if (Array.isArray(sort)) return sort.map(({ field, direction }) => ({ field, direction }));
  return Object.entries(sort).map(([field, direction]) => ({ field, direction }));
}

/** A comparable sort value; null stands for a missing (or not sortable) field. */
export type SortValue = number | string | boolean | null;

/** Where an entry sits in a query's order: its sort values (in sort-key order) and its key as the tie-break. */
export interface SortPosition {
  values: SortValue[];
  key: string;
}

/** True when `value` is a map (a plain object: not an array, not binary). */
export function isValueMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * True when `value` passes the query's filter: `predicate` wins over `where`; a query with neither matches every
 * value (tombstones excepted, which callers leave out). A value that is not a map never matches a filter.
 */
export function matchesQuery(query: Pick<Query, "where" | "predicate">, value: unknown, key?: string): boolean {
  if (query.predicate) return evaluatePredicate(query.predicate, value, key === undefined ? {} : { key });
  if (query.where) return matchesWhere(query.where, value);
  return true;
}

/** `where`: every field present and `===` the expected value. */
export function matchesWhere(where: Readonly<Record<string, unknown>>, value: unknown): boolean {
  if (!isValueMap(value)) return false;
  return Object.entries(where).every(([field, expected]) => Object.hasOwn(value, field) && value[field] === expected);
}

/** What a predicate may read besides the record's value: its key (`_key`) and, in access policies, the principal. */
export interface PredicateContext {
  /** The record key, which the pseudo-attribute `_key` names. */
  key?: string;
  /** `auth` of a policy condition (see core/principal.ts); queries have none, so `auth.*` references fail. */
  auth?: Readonly<Record<string, unknown>>;
}

/** The pseudo-attribute that names the record key instead of a field of the value. */
export const KEY_ATTRIBUTE = "_key";

/** Evaluates a predicate tree against a record value with the TS core's semantics. */
export function evaluatePredicate(node: PredicateNode, value: unknown, context: PredicateContext = {}): boolean {
  if (!isValueMap(value)) return false;
  return evaluateNode(node, value, context);
}

const MISSING = Symbol("missing");

/** `auth.a.b` from the context, `data.a.b` from the record: MISSING when any step is absent. */
function resolveRef(ref: string, data: Record<string, unknown>, context: PredicateContext): unknown {
  const [root, ...path] = ref.split(".");
  let current: unknown = root === "data" ? data : root === "auth" ? context.auth : undefined;
  if (current === undefined || path.length === 0) return MISSING;
  for (const step of path) {
    if (!isValueMap(current) || !Object.hasOwn(current, step)) return MISSING;
    current = current[step];
  }
  return current;
}

function evaluateNode(node: PredicateNode, data: Record<string, unknown>, context: PredicateContext): boolean {
  const children = node.children ?? [];
  switch (node.op) {
    case "and":
      return children.every((child: PredicateNode) => evaluateNode(child, data, context));
    case "or":
      return children.some((child: PredicateNode) => evaluateNode(child, data, context));
    case "not": {
      const first = children[0];
      return first === undefined ? true : !evaluateNode(first, data, context);
    }
    default:
      break;
  }
  // A leaf without an attribute compares its literal `value` with its `valueRef` (`'editor' in auth.roles`).
  if (node.attribute === undefined && node.valueRef === undefined) return false;
  const actual =
    node.attribute === undefined
      ? node.value
      : node.attribute === KEY_ATTRIBUTE
        ? context.key
        : Object.hasOwn(data, node.attribute)
          ? data[node.attribute]
          : undefined;
  if (node.op === "isNull") return actual === undefined || actual === null;
  if (node.op === "isNotNull") return actual !== undefined && actual !== null;
  const target = node.valueRef === undefined ? node.value : resolveRef(node.valueRef, data, context);
  if (target === MISSING) return false;
  switch (node.op) {
    case "in":
      if (Array.isArray(target)) return target.some((t) => t === actual);
      return Array.isArray(actual) && actual.some((a) => a === target);
    case "between":
      return isBetween(actual, target);
    case "eq":
      return actual === target;
    case "neq":
      return actual !== target;
    case "gt":
      return compareOrderable(actual, target, (a, b) => a > b);
    case "gte":
      return compareOrderable(actual, target, (a, b) => a >= b);
    case "lt":
      return compareOrderable(actual, target, (a, b) => a < b);
    case "lte":
      return compareOrderable(actual, target, (a, b) => a <= b);
    case "like":
      return typeof actual === "string" && typeof target === "string" && likePattern(target).test(actual);
    case "regex":
      return typeof actual === "string" && typeof target === "string" && (compileRegex(target)?.test(actual) ?? false);
    case "contains":
      return typeof actual === "string" && typeof target === "string" && actual.toLowerCase().includes(target.toLowerCase());
    case "containsAll":
      return typeof actual === "string" && Array.isArray(target) && target.every((t) => containsText(actual, t));
    case "containsAny":
      return typeof actual === "string" && Array.isArray(target) && target.some((t) => containsText(actual, t));
  }
}

type Orderable = number | string | boolean;

/** `[low, high]`, inclusive, all three numbers or all three strings. */
function isBetween(actual: unknown, range: unknown): boolean {
  if (!Array.isArray(range) || range.length !== 2) return false;
  const [low, high] = range as unknown[];
  if (typeof actual === "number" && typeof low === "number" && typeof high === "number") return low <= actual && actual <= high;
  if (typeof actual === "string" && typeof low === "string" && typeof high === "string") return low <= actual && actual <= high;
  return false;
}

/** JS relational operators, restricted to primitives (an object or a missing field compares false). */
function compareOrderable(a: unknown, b: unknown, compare: (a: Orderable, b: Orderable) => boolean): boolean {
  return isPrimitive(a) && isPrimitive(b) && compare(a, b);
}

function isPrimitive(value: unknown): value is Orderable {
  return typeof value === "number" || typeof value === "string" || typeof value === "boolean";
}

function containsText(text: string, part: unknown): boolean {
  return typeof part === "string" && text.toLowerCase().includes(part.toLowerCase());
}

const MAX_CACHED_PATTERNS = 256;
const patterns = new Map<string, RegExp | null>();

function cached(id: string, build: () => RegExp | null): RegExp | null {
  let pattern = patterns.get(id);
  if (pattern === undefined) {
    if (patterns.size >= MAX_CACHED_PATTERNS) patterns.clear();
    pattern = build();
    patterns.set(id, pattern);
  }
  return pattern;
}

/** SQL LIKE: `%` any run, `_` one character, anchored, case-insensitive. */
function likePattern(like: string): RegExp {
  const build = () => {
    const body = like.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/%/g, ".*").replace(/_/g, ".");
    return new RegExp(`^${body}$`, "is");
  };
  return cached(`like\u0000${like}`, build) ?? /$^/;
}

/** A JS RegExp, or null when the pattern does not compile (then nothing matches). */
function compileRegex(source: string): RegExp | null {
  return cached(`regex\u0000${source}`, () => {
    try {
      return new RegExp(source);
    } catch {
      return null; // An invalid pattern matches nothing instead of failing the whole query.
    }
  });
}

// --- sort ---------------------------------------------------------------------------------------------------

/**
 * The sort value of one field: numbers, strings and booleans sort; anything else counts as missing. The field `_key`
 * is the record key.
 */
function sortValueOf(entry: QueryEntry, field: string): SortValue {
  if (field === KEY_ATTRIBUTE) return entry.key;
  const value = entry.value;
  if (!isValueMap(value) || !Object.hasOwn(value, field)) return null;
  const v = value[field];
  if (typeof v === "number") return Number.isNaN(v) ? null : v;
  return typeof v === "string" || typeof v === "boolean" ? v : null;
}

/** The position of an entry in the order of `sort`. */
export function sortPositionOf(sort: SortSpec | undefined, entry: QueryEntry): SortPosition {
  return { values: sortKeysOf(sort).map(({ field }) => sortValueOf(entry, field)), key: entry.key };
}

const TYPE_RANK = { boolean: 0, number: 1, string: 2 } as const;

/** Ascending order of two present sort values: by type (boolean, number, string), then by value. */
function compareValues(a: Exclude<SortValue, null>, b: Exclude<SortValue, null>): number {
  const ta = TYPE_RANK[typeof a as keyof typeof TYPE_RANK];
  const tb = TYPE_RANK[typeof b as keyof typeof TYPE_RANK];
  if (ta !== tb) return ta - tb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Orders two positions by the sort keys in order. A missing field sorts last ascending and first descending (the
 * descending order is the ascending one reversed); ties break on the record key, so the order is total and a
 * cursor (the last position of a page) splits the results exactly.
 */
export function comparePositions(sort: SortSpec | undefined, a: SortPosition, b: SortPosition): number {
  const directions = directionsOf(sort);
  for (let i = 0; i < directions.length; i++) {
    const va = a.values[i] ?? null;
    const vb = b.values[i] ?? null;
    let order: number;
    if (va === null || vb === null) order = va === vb ? 0 : va === null ? 1 : -1;
    else order = compareValues(va, vb);
    if (order !== 0) return directions[i] === "desc" ? -order : order;
  }
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** The directions of a sort, cached per sort object (a query's sort is compared many times while it is read). */
const directionCache = new WeakMap<object, ("asc" | "desc")[]>();
function directionsOf(sort: SortSpec | undefined): ("asc" | "desc")[] {
  if (sort === undefined) return [];
  let directions = directionCache.get(sort);
  if (!directions) directionCache.set(sort, (directions = sortKeysOf(sort).map((k) => k.direction)));
  return directions;
}

/** A comparator of entries in the order of `sort` (see {@link comparePositions}). */
export function compareEntries(sort: SortSpec | undefined): (a: QueryEntry, b: QueryEntry) => number {
  return (a, b) => comparePositions(sort, sortPositionOf(sort, a), sortPositionOf(sort, b));
}

/**
 * Keeps the first `limit` entries, in order, of the entries offered one by one (and only those after `after`),
 * without holding more than `limit` of them: for a sorted, limited query over a map too large for memory.
 */
export class TopEntries {
  readonly #sort: SortSpec | undefined;
  readonly #limit: number;
  readonly #after: SortPosition | undefined;
  readonly #kept: { entry: QueryEntry; position: SortPosition }[] = [];

  constructor(options: { sort?: SortSpec | undefined; limit?: number | undefined; after?: SortPosition | undefined }) {
    this.#sort = options.sort;
    this.#limit = options.limit ?? Number.POSITIVE_INFINITY;
    this.#after = options.after;
  }

  offer(entry: QueryEntry): void {
    const position = sortPositionOf(this.#sort, entry);
    if (this.#after && comparePositions(this.#sort, position, this.#after) <= 0) return;
    const kept = this.#kept;
    if (this.#limit === Number.POSITIVE_INFINITY) {
      kept.push({ entry, position });
      return;
    }
    if (kept.length >= this.#limit) {
      const last = kept[kept.length - 1];
      if (!last || comparePositions(this.#sort, position, last.position) >= 0) return;
    }
    let low = 0;
    let high = kept.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (comparePositions(this.#sort, kept[mid]!.position, position) < 0) low = mid + 1;
      else high = mid;
    }
    kept.splice(low, 0, { entry, position });
    if (kept.length > this.#limit) kept.pop();
  }

  /** The kept entries in order. */
  entries(): QueryEntry[] {
    if (this.#limit === Number.POSITIVE_INFINITY) this.#kept.sort((a, b) => comparePositions(this.#sort, a.position, b.position));
    return this.#kept.map((k) => k.entry);
  }
}
