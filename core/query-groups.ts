// GROUP BY and aggregations (PROTOCOL-NEXT.md §4.3): partial aggregates that each shard computes over its own
// records, merged at the home into one result row per group. Runtime-free.
import { fnv1a } from "./hash.ts";
import { isValueMap, type QueryEntry } from "./predicate.ts";
import type { Aggregation, Query } from "./protocol/shared.ts";

/** What a grouped query groups by and computes. */
export interface GroupSpec {
  groupBy: readonly string[];
  aggregations: readonly Aggregation[];
}

/** Running statistics of one aggregated field over the numeric values seen. */
export interface FieldStats {
  n: number;
  sum: number;
  min: number | null;
  max: number | null;
}

/** The aggregates of one group over some records (one shard's, or all of them): mergeable. */
export interface GroupPartial {
  /** The opaque bucket id: the same for the same typed group values on every shard. */
  id: string;
  /** The group's values in `groupBy` order; a missing field is null. */
  values: unknown[];
  count: number;
  stats: Record<string, FieldStats>;
}

/** True when a query asks for group rows instead of records. */
export function isGroupedQuery(query: Pick<Query, "groupBy" | "aggregations">): boolean {
  return query.groupBy !== undefined || query.aggregations !== undefined;
}

/** The group spec of a query (no `groupBy`: one group of every matching record). */
export function groupSpecOf(query: Pick<Query, "groupBy" | "aggregations">): GroupSpec {
  return { groupBy: query.groupBy ?? [], aggregations: query.aggregations ?? [] };
}

/** The fields whose numbers an aggregation reads (every function but `count`). */
function statFields(spec: GroupSpec): string[] {
  const fields = new Set<string>();
  for (const agg of spec.aggregations) if (agg.func !== "count" && agg.field !== undefined) fields.add(agg.field);
  return [...fields];
}

/** Values of different types are different groups; a missing field and null are the same group. */
function typedToken(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === "number") return ["n", value];
  if (typeof value === "string") return ["s", value];
  if (typeof value === "boolean") return ["b", value];
  if (value instanceof Uint8Array) return ["x", [...value]];
  return ["j", value];
}

/** Longest bucket id spelled out; longer group values get a hashed id, so the id stays a valid record key. */
const MAX_SPELLED_ID_LENGTH = 256;

/** The group values of a record value and their bucket id. */
export function groupOf(spec: GroupSpec, value: unknown): { id: string; values: unknown[] } {
  const map = isValueMap(value) ? value : {};
  const values = spec.groupBy.map((field) => (Object.hasOwn(map, field) ? (map[field] ?? null) : null));
  const spelled = JSON.stringify(values.map(typedToken));
  if (spelled.length <= MAX_SPELLED_ID_LENGTH) return { id: spelled, values };
  // 64 bits of two FNV-1a passes (forwards and over the reversed text) and the length: ids of distinct groups
  // collide with negligible odds (merging them would be wrong, so a collision is not merely cosmetic).
  const reversed = [...spelled].reverse().join("");
  const hex = (n: number) => n.toString(16).padStart(8, "0");
  return { id: `#${hex(fnv1a(spelled))}${hex(fnv1a(reversed))}-${spelled.length}`, values };
}

function emptyStats(): FieldStats {
  return { n: 0, sum: 0, min: null, max: null };
}

/** Adds one record value to the partials of its group. */
export function addToGroups(spec: GroupSpec, groups: Map<string, GroupPartial>, value: unknown): void {
  const { id, values } = groupOf(spec, value);
  let group = groups.get(id);
  if (!group) {
    group = { id, values, count: 0, stats: Object.fromEntries(statFields(spec).map((f) => [f, emptyStats()])) };
    groups.set(id, group);
  }
  group.count++;
  if (!isValueMap(value)) return;
  for (const [field, stats] of Object.entries(group.stats)) {
    const v = value[field];
    if (typeof v !== "number" || Number.isNaN(v)) continue; // non-numeric and missing values are skipped
    stats.n++;
    stats.sum += v;
    stats.min = stats.min === null || v < stats.min ? v : stats.min;
    stats.max = stats.max === null || v > stats.max ? v : stats.max;
  }
}

/** The partials of `values`, one per group. */
export function groupValues(spec: GroupSpec, values: Iterable<unknown>): GroupPartial[] {
  const groups = new Map<string, GroupPartial>();
  for (const value of values) addToGroups(spec, groups, value);
  return [...groups.values()];
}

/** Merges the partials of the same groups from several shards. */
export function mergeGroups(lists: readonly (readonly GroupPartial[])[]): GroupPartial[] {
  const merged = new Map<string, GroupPartial>();
  for (const list of lists) {
    for (const part of list) {
      const into = merged.get(part.id);
      if (!into) {
        merged.set(part.id, { id: part.id, values: part.values, count: part.count, stats: structuredClone(part.stats) });
        continue;
      }
      into.count += part.count;
      for (const [field, s] of Object.entries(part.stats)) {
        const t = (into.stats[field] ??= emptyStats());
        t.n += s.n;
        t.sum += s.sum;
        if (s.min !== null) t.min = t.min === null || s.min < t.min ? s.min : t.min;
        if (s.max !== null) t.max = t.max === null || s.max > t.max ? s.max : t.max;
      }
    }
  }
  return [...merged.values()];
}

/**
 * The result value of a group: each groupBy field under its own name, `__count` always, and `__<func>_<field>` for
 * each requested aggregation only (sum 0 and min/max/avg null when the group holds no number in that field).
 */
export function groupRow(spec: GroupSpec, group: GroupPartial): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  spec.groupBy.forEach((field, i) => (row[field] = group.values[i] ?? null));
  row.__count = group.count;
  for (const { func, field } of spec.aggregations) {
    if (func === "count" || field === undefined) continue;
    const stats = group.stats[field] ?? emptyStats();
    if (func === "sum") row[`__sum_${field}`] = stats.sum;
    else if (func === "min") row[`__min_${field}`] = stats.min;
    else if (func === "max") row[`__max_${field}`] = stats.max;
    else row[`__avg_${field}`] = stats.n === 0 ? null : stats.sum / stats.n;
  }
  return row;
}

/** The result entries of merged groups (key: the bucket id), unsorted. */
export function groupEntries(spec: GroupSpec, groups: readonly GroupPartial[]): QueryEntry[] {
  return groups.filter((g) => g.count > 0).map((g) => ({ key: g.id, value: groupRow(spec, g) }));
}
