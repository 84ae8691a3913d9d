// Hand-written guards for the hottest messages (OP_BATCH, CLIENT_OP): building zod's parse result per op cost
// ~15% of a write batch's CPU on the server. A guard accepts only the plain shape real clients send and builds
// exactly the value the zod schema would (unknown keys stripped, nil optional fields absent, null kept where the
// schema keeps it); anything else — an error, a bigint, an odd field — answers undefined, and the caller falls
// back to the schema, which then also words the error. hot-ops.test.ts checks both agree.
import { MAX_BATCH_OPS, MAX_ID_LENGTH, MAX_KEY_LENGTH, MAX_MAP_NAME_LENGTH, MAX_TAG_LENGTH } from "../limits.ts";
import type { ClientOpMessage, OpBatchMessage } from "./ops.ts";
import type { ClientOp, LWWRecord, ORMapRecord, Timestamp, WriteConcern } from "./shared.ts";

const MAX_U32 = 0xffff_ffff;
const MAX_OP_TYPE_LENGTH = 32;
const WRITE_CONCERNS: ReadonlySet<string> = new Set(["FIRE_AND_FORGET", "MEMORY", "APPLIED", "REPLICATED", "PERSISTED"]);

/** Marks a field the guard cannot vouch for: the whole message goes to the schema. */
const UNSURE = Symbol("unsure");
type Unsure = typeof UNSURE;

/** The typed OP_BATCH or CLIENT_OP of a decoded frame when it has the plain shape; undefined means "ask the schema". */
export function parseHotOps(raw: Record<string, unknown>): OpBatchMessage | ClientOpMessage | undefined {
  if (raw.type === "CLIENT_OP") {
    const op = clientOpOf(raw.payload);
    return op === UNSURE ? undefined : { type: "CLIENT_OP", payload: op };
  }
  if (raw.type !== "OP_BATCH" || !isPlainObject(raw.payload)) return undefined;
  const { ops, writeConcern, timeout } = raw.payload;
  if (!Array.isArray(ops) || ops.length > MAX_BATCH_OPS) return undefined;
  const concern = optional(writeConcern, writeConcernOf);
  const wait = optional(timeout, u64Of);
  if (concern === UNSURE || wait === UNSURE) return undefined;
  const parsed: ClientOp[] = new Array(ops.length);
  for (let i = 0; i < ops.length; i++) {
    const op = clientOpOf(ops[i]);
    if (op === UNSURE) return undefined;
    parsed[i] = op;
  }
  const payload: OpBatchMessage["payload"] = { ops: parsed };
  if (concern !== undefined) payload.writeConcern = concern;
  if (wait !== undefined) payload.timeout = wait;
  return { type: "OP_BATCH", payload };
}

function clientOpOf(raw: unknown): ClientOp | Unsure {
  if (!isPlainObject(raw)) return UNSURE;
  const mapName = stringOf(raw.mapName, 1, MAX_MAP_NAME_LENGTH);
  const key = stringOf(raw.key, 1, MAX_KEY_LENGTH);
  const id = optional(raw.id, (v) => stringOf(v, 0, MAX_ID_LENGTH));
  const opType = optional(raw.opType, (v) => stringOf(v, 0, MAX_OP_TYPE_LENGTH));
  const writeConcern = optional(raw.writeConcern, writeConcernOf);
  const timeout = optional(raw.timeout, u64Of);
  if (mapName === UNSURE || key === UNSURE || id === UNSURE || opType === UNSURE || writeConcern === UNSURE || timeout === UNSURE) {
    return UNSURE;
  }
  const op: ClientOp = { mapName, key };
  if (id !== undefined) op.id = id;
  if (opType !== undefined) op.opType = opType;
  // record, orRecord and orTag keep null apart from absent (classifyOp depends on it).
  if ("record" in raw && raw.record !== undefined) {
    const record = raw.record === null ? null : lwwRecordOf(raw.record);
    if (record === UNSURE) return UNSURE;
    op.record = record;
  }
  if ("orRecord" in raw && raw.orRecord !== undefined) {
    const orRecord = raw.orRecord === null ? null : orRecordOf(raw.orRecord);
    if (orRecord === UNSURE) return UNSURE;
    op.orRecord = orRecord;
  }
  if ("orTag" in raw && raw.orTag !== undefined) {
    const orTag = raw.orTag === null ? null : stringOf(raw.orTag, 0, MAX_TAG_LENGTH);
    if (orTag === UNSURE) return UNSURE;
    op.orTag = orTag;
  }
  if (writeConcern !== undefined) op.writeConcern = writeConcern;
  if (timeout !== undefined) op.timeout = timeout;
  return op;
}

function lwwRecordOf(raw: unknown): LWWRecord | Unsure {
  if (!isPlainObject(raw) || !("value" in raw)) return UNSURE;
  const timestamp = timestampOf(raw.timestamp);
  const ttlMs = optional(raw.ttlMs, u64Of);
  if (timestamp === UNSURE || ttlMs === UNSURE) return UNSURE;
  const record: LWWRecord = { value: raw.value, timestamp };
  if (ttlMs !== undefined) record.ttlMs = ttlMs;
  return record;
}

function orRecordOf(raw: unknown): ORMapRecord | Unsure {
  if (!isPlainObject(raw) || !("value" in raw)) return UNSURE;
  const timestamp = timestampOf(raw.timestamp);
  const tag = stringOf(raw.tag, 0, MAX_TAG_LENGTH);
  const ttlMs = optional(raw.ttlMs, u64Of);
  if (timestamp === UNSURE || tag === UNSURE || ttlMs === UNSURE) return UNSURE;
  const record: ORMapRecord = { value: raw.value, timestamp, tag };
  if (ttlMs !== undefined) record.ttlMs = ttlMs;
  return record;
}

function timestampOf(raw: unknown): Timestamp | Unsure {
  if (!isPlainObject(raw)) return UNSURE;
  const millis = u64Of(raw.millis);
  const counter = integerOf(raw.counter, MAX_U32);
  const nodeId = stringOf(raw.nodeId, 0, MAX_ID_LENGTH);
  if (millis === UNSURE || counter === UNSURE || nodeId === UNSURE) return UNSURE;
  return { millis, counter, nodeId };
}

/** An optional field: nil and absent read as absent (zod's optionalField). */
function optional<T>(value: unknown, read: (value: unknown) => T | Unsure): T | undefined | Unsure {
  return value === undefined || value === null ? undefined : read(value);
}

function stringOf(value: unknown, min: number, max: number): string | Unsure {
  return typeof value === "string" && value.length >= min && value.length <= max ? value : UNSURE;
}

function u64Of(value: unknown): number | Unsure {
  return integerOf(value, Number.MAX_SAFE_INTEGER);
}

function integerOf(value: unknown, max: number): number | Unsure {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= max ? value : UNSURE;
}

function writeConcernOf(value: unknown): WriteConcern | Unsure {
  return isWriteConcern(value) ? value : UNSURE;
}

function isWriteConcern(value: unknown): value is WriteConcern {
  return typeof value === "string" && WRITE_CONCERNS.has(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
