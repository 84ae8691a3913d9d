// Wire structures shared by several messages (PROTOCOL.md §3.1) and the field helpers every message schema
// uses. Objects strip unknown keys; values (`z.unknown()`) are kept exactly as decoded.
import * as z from "./zod.ts";
import {
  MAX_CURSOR_LENGTH,
  MAX_ID_LENGTH,
  MAX_KEY_LENGTH,
  MAX_MAP_NAME_LENGTH,
  MAX_PREDICATE_DEPTH,
  MAX_QUERY_FIELDS,
  MAX_PROCESSOR_CODE_LENGTH,
  MAX_PROCESSOR_NAME_LENGTH,
  MAX_QUERY_LIMIT,
  MAX_RESOLVER_CODE_LENGTH,
  MAX_RESOLVER_NAME_LENGTH,
  MAX_RESOLVER_PRIORITY,
  MAX_SEARCH_LIMIT,
  MAX_TAG_LENGTH,
} from "../limits.ts";

// --- field helpers -------------------------------------------------------------------------------------

/**
 * A whole number in [min, max]. On the wire it may be a msgpack integer or a float64 without a fraction
 * (JS clients send epoch millis as float64); msgpackr decodes a uint64 as a BigInt, which becomes a number.
 */
export function wireInteger(min: number, max: number) {
  return z.pipe(
    z.transform((value: unknown) => (typeof value === "bigint" ? Number(value) : value)),
    z
      .number({ error: "expected a number" })
      .check(
        z.int({ error: "expected a whole number" }),
        z.minimum(min, { error: `expected at least ${min}` }),
        z.maximum(max, { error: `expected at most ${max}` }),
      ),
  );
}

/** An unsigned 32-bit integer field. */
export const wireU32 = wireInteger(0, 0xffff_ffff);
/** An unsigned 64-bit integer field, as far as a JS number holds it exactly. */
export const wireU64 = wireInteger(0, Number.MAX_SAFE_INTEGER);
/** A signed 64-bit integer field, as far as a JS number holds it exactly. */
export const wireI64 = wireInteger(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);

/** An optional field; some clients write nil for an absent field, so null reads as absent. */
export function optionalField<T extends z.ZodMiniType>(schema: T) {
  return z.optional(z.pipe(z.nullish(schema), z.transform((value: z.output<T> | null | undefined) => value ?? undefined)));
}

/** A map name: non-empty, bounded. */
export const mapNameSchema = z.string().check(z.minLength(1), z.maxLength(MAX_MAP_NAME_LENGTH));
/** A record key: any non-empty string (`:` included), bounded. */
export const recordKeySchema = z.string().check(z.minLength(1), z.maxLength(MAX_KEY_LENGTH));
/** An id chosen by a client or a node (op, request, query, subscription or node id). */
export const wireIdSchema = z.string().check(z.maxLength(MAX_ID_LENGTH));
/** An OR-Map tag; any string, since some clients do not use the HLC form. */
export const tagSchema = z.string().check(z.maxLength(MAX_TAG_LENGTH));
/** A msgpack map with string keys and any values. */
export const valueMapSchema = z.record(z.string(), z.unknown());

// --- records -------------------------------------------------------------------------------------------

export const timestampSchema = z.object({ millis: wireU64, counter: wireU32, nodeId: wireIdSchema });
export type Timestamp = z.infer<typeof timestampSchema>;

/** `value: null` is a tombstone. */
export const lwwRecordSchema = z.object({ value: z.unknown(), timestamp: timestampSchema, ttlMs: optionalField(wireU64) });
export type LWWRecord = z.infer<typeof lwwRecordSchema>;

export const orMapRecordSchema = z.object({
  value: z.unknown(),
  timestamp: timestampSchema,
  tag: tagSchema,
  ttlMs: optionalField(wireU64),
});
export type ORMapRecord = z.infer<typeof orMapRecordSchema>;

export const orMapEntrySchema = z.object({
  key: recordKeySchema,
  records: z.array(orMapRecordSchema),
  tombstones: z.array(tagSchema),
});
export type ORMapEntry = z.infer<typeof orMapEntrySchema>;

// --- ops -----------------------------------------------------------------------------------------------

/** Write-concern levels, weakest first. */
export const writeConcernSchema = z.enum(["FIRE_AND_FORGET", "MEMORY", "APPLIED", "REPLICATED", "PERSISTED"]);
export type WriteConcern = z.infer<typeof writeConcernSchema>;

/** `record`, `orRecord` and `orTag` keep null apart from absent: `classifyOp` depends on the difference. */
export const clientOpSchema = z.object({
  id: optionalField(wireIdSchema),
  mapName: mapNameSchema,
  key: recordKeySchema,
  opType: optionalField(z.string().check(z.maxLength(32))), // clients send PUT, REMOVE, OR_ADD or OR_REMOVE; see classifyOp
  record: z.optional(z.nullable(lwwRecordSchema)),
  orRecord: z.optional(z.nullable(orMapRecordSchema)),
  orTag: z.optional(z.nullable(tagSchema)),
  writeConcern: optionalField(writeConcernSchema),
  timeout: optionalField(wireU64),
});
export type ClientOp = z.infer<typeof clientOpSchema>;

export type OpKind = "REMOVE" | "OR_ADD" | "OR_REMOVE" | "PUT";

/**
 * What a client op does, tested in TopGun's order (PROTOCOL.md §5.2). A record whose value is null is a
 * tombstone, so it is a REMOVE too (Part A 4): it carries the timestamp the tombstone needs.
 */
export function classifyOp(op: ClientOp): OpKind {
  if (op.opType === "REMOVE" || op.record === null || op.record?.value === null) return "REMOVE";
  if (op.orRecord !== undefined && op.orRecord !== null) return "OR_ADD";
  if (typeof op.orTag === "string" && op.orRecord === undefined) return "OR_REMOVE";
  return "PUT";
}

export const opResultSchema = z.object({
  opId: wireIdSchema,
  success: z.boolean(),
  achievedLevel: writeConcernSchema,
  error: optionalField(z.string()),
});
export type OpResult = z.infer<typeof opResultSchema>;

// --- queries and search --------------------------------------------------------------------------------

/** The 11 ops Rust knows, the TS core's `contains*` (Part A 7) and TopGun main's `in`, `between`, `isNull`, `isNotNull`. */
export const predicateOpSchema = z.enum([
  "eq",
  "neq",
  "gt",
  "gte",
  "lt",
  "lte",
  "like",
  "regex",
  "contains",
  "containsAll",
  "containsAny",
  "in",
  "between",
  "isNull",
  "isNotNull",
  "and",
  "or",
  "not",
]);
export type PredicateOp = z.infer<typeof predicateOpSchema>;

export const predicateNodeSchema = z.object({
  op: predicateOpSchema,
  attribute: optionalField(z.string().check(z.maxLength(MAX_KEY_LENGTH))),
  value: z.optional(z.unknown()),
  /** `auth.<path>` or `data.<path>`: the compared value comes from the principal or the record instead of `value`. */
  valueRef: optionalField(z.string().check(z.maxLength(MAX_KEY_LENGTH))),
  get children() {
    return optionalField(z.array(predicateNodeSchema));
  },
});
export type PredicateNode = z.infer<typeof predicateNodeSchema>;

/** The depth of a predicate tree (a leaf is 1). */
export function predicateDepth(node: PredicateNode): number {
  let deepest = 0;
  for (const child of node.children ?? []) deepest = Math.max(deepest, predicateDepth(child));
  return deepest + 1;
}

export const sortDirectionSchema = z.enum(["asc", "desc"]);

/** A field of a record value; `_key` names the record key where a query allows it. */
export const fieldNameSchema = z.string().check(z.minLength(1), z.maxLength(MAX_KEY_LENGTH));

/**
 * `sort` in both forms TopGun clients send (PROTOCOL-NEXT.md §4.1): the ordered `[{field, direction}]` array of
 * TopGun main and the v0.12 map `{field: direction}`. Array position (or map order) gives priority.
 */
export const sortSchema = z.union([
  z.array(z.object({ field: fieldNameSchema, direction: sortDirectionSchema })).check(z.maxLength(MAX_QUERY_FIELDS)),
  z.record(z.string(), sortDirectionSchema).check(
    z.refine((sort) => Object.keys(sort).length <= MAX_QUERY_FIELDS, { error: `sort has more than ${MAX_QUERY_FIELDS} keys` }),
  ),
]);
export type Sort = z.infer<typeof sortSchema>;

export const aggregateFunctionSchema = z.enum(["count", "sum", "min", "max", "avg"]);
export type AggregateFunction = z.infer<typeof aggregateFunctionSchema>;

/** One aggregation of a grouped query (PROTOCOL-NEXT.md §4.3); every function but `count` names its field. */
export const aggregationSchema = z
  .object({ func: aggregateFunctionSchema, field: optionalField(fieldNameSchema) })
  .check(z.refine((agg) => agg.func === "count" || agg.field !== undefined, { error: "sum, min, max and avg need a field" }));
export type Aggregation = z.infer<typeof aggregationSchema>;

export const querySchema = z.object({
  where: optionalField(valueMapSchema),
  predicate: optionalField(
    predicateNodeSchema.check(
      z.refine((node) => predicateDepth(node) <= MAX_PREDICATE_DEPTH, {
        error: `predicate is nested deeper than ${MAX_PREDICATE_DEPTH} levels`,
      }),
    ),
  ),
  sort: optionalField(sortSchema),
  limit: optionalField(wireInteger(0, MAX_QUERY_LIMIT)),
  cursor: optionalField(z.string().check(z.maxLength(MAX_CURSOR_LENGTH))),
  groupBy: optionalField(z.array(fieldNameSchema).check(z.maxLength(MAX_QUERY_FIELDS))),
  aggregations: optionalField(z.array(aggregationSchema).check(z.maxLength(MAX_QUERY_FIELDS))),
});
export type Query = z.infer<typeof querySchema>;

export const searchOptionsSchema = z.object({
  limit: optionalField(wireInteger(0, MAX_SEARCH_LIMIT)),
  minScore: optionalField(z.number()),
  boost: optionalField(z.record(z.string(), z.number())),
});
export type SearchOptions = z.infer<typeof searchOptionsSchema>;

export const changeTypeSchema = z.enum(["ENTER", "UPDATE", "LEAVE"]);
export type ChangeType = z.infer<typeof changeTypeSchema>;

// --- counters, journal, processors ---------------------------------------------------------------------

const counterSideSchema = z.record(z.string(), z.number());

/**
 * A PN-counter state. Rust and the schema say `{p, n}`, the v0.12 client says `{positive, negative}`
 * (PROTOCOL.md §11.3); both are accepted and read as `{p, n}`.
 */
export const pnCounterStateSchema = z.pipe(
  z.union(
    [
      z.object({ p: counterSideSchema, n: counterSideSchema }),
      z.object({ positive: counterSideSchema, negative: counterSideSchema }),
    ],
    { error: "expected {p, n} or {positive, negative} maps of numbers" },
  ),
  z.transform((state) => ("p" in state ? { p: state.p, n: state.n } : { p: state.positive, n: state.negative })),
);
export type PNCounterState = z.infer<typeof pnCounterStateSchema>;

export const journalEventTypeSchema = z.enum(["PUT", "UPDATE", "DELETE"]);
export type JournalEventType = z.infer<typeof journalEventTypeSchema>;

export const journalEventDataSchema = z.object({
  sequence: z.string().check(z.maxLength(MAX_ID_LENGTH)),
  type: journalEventTypeSchema,
  mapName: mapNameSchema,
  key: recordKeySchema,
  value: z.optional(z.unknown()),
  previousValue: z.optional(z.unknown()),
  timestamp: timestampSchema,
  nodeId: wireIdSchema,
  metadata: optionalField(valueMapSchema),
});
export type JournalEventData = z.infer<typeof journalEventDataSchema>;

/** On the edge `name` picks a built-in processor (Part A 11), so `code` may be left out. */
export const entryProcessorSchema = z.object({
  name: z.string().check(z.minLength(1), z.maxLength(MAX_PROCESSOR_NAME_LENGTH)),
  code: optionalField(z.string().check(z.maxLength(MAX_PROCESSOR_CODE_LENGTH))),
  args: z.optional(z.unknown()),
});
export type EntryProcessor = z.infer<typeof entryProcessorSchema>;

export const conflictResolverSchema = z.object({
  name: z.string().check(z.minLength(1), z.maxLength(MAX_RESOLVER_NAME_LENGTH)),
  code: z.string().check(z.maxLength(MAX_RESOLVER_CODE_LENGTH)),
  priority: optionalField(wireInteger(0, MAX_RESOLVER_PRIORITY)),
  keyPattern: optionalField(z.string().check(z.maxLength(MAX_KEY_LENGTH))),
});
export type ConflictResolver = z.infer<typeof conflictResolverSchema>;
