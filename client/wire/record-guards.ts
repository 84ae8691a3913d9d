// Hand-written guards for the records that arrive in bulk (events, sync leaves, OR-Map entries): the hot path of
// every sync, so plain code rather than combinators.
import type { LWWRecord, ORMapEntry, ORMapRecord, Timestamp } from "../../core/protocol/shared.ts";
import type { ServerEventPayload } from "../../core/protocol/ops.ts";
import { fail, isMap, oneOf, type Guard } from "./guard.ts";

export function isTimestamp(value: unknown, trail: string[]): value is Timestamp {
  if (!isMap(value)) return false;
  if (!isWhole(value.millis)) return fail(trail, "millis");
  if (!isWhole(value.counter)) return fail(trail, "counter");
  if (typeof value.nodeId !== "string") return fail(trail, "nodeId");
  return true;
}

export function isLwwRecord(value: unknown, trail: string[]): value is LWWRecord {
  if (!isMap(value)) return false;
  if (!isTimestamp(value.timestamp, trail)) return fail(trail, "timestamp");
  return hasOptionalTtl(value, trail);
}

export function isOrMapRecord(value: unknown, trail: string[]): value is ORMapRecord {
  if (!isMap(value)) return false;
  if (!isTimestamp(value.timestamp, trail)) return fail(trail, "timestamp");
  if (typeof value.tag !== "string") return fail(trail, "tag");
  return hasOptionalTtl(value, trail);
}

export function isOrMapEntry(value: unknown, trail: string[]): value is ORMapEntry {
  if (!isMap(value)) return false;
  if (typeof value.key !== "string") return fail(trail, "key");
  const { records, tombstones } = value;
  if (!Array.isArray(records)) return fail(trail, "records");
  for (let i = 0; i < records.length; i++) {
    if (!isOrMapRecord(records[i], trail)) return fail(trail, "records", String(i));
  }
  if (!Array.isArray(tombstones)) return fail(trail, "tombstones");
  for (let i = 0; i < tombstones.length; i++) {
    if (typeof tombstones[i] !== "string") return fail(trail, "tombstones", String(i));
  }
  return true;
}

const isServerEventType = oneOf("PUT", "REMOVE", "OR_ADD", "OR_REMOVE");

export function isServerEventPayload(value: unknown, trail: string[]): value is ServerEventPayload {
  if (!isMap(value)) return false;
  if (typeof value.mapName !== "string") return fail(trail, "mapName");
  if (!isServerEventType(value.eventType, trail)) return fail(trail, "eventType");
  if (typeof value.key !== "string") return fail(trail, "key");
  if (!isAbsentOr(value, "record", isLwwRecord, trail)) return fail(trail, "record");
  if (!isAbsentOr(value, "orRecord", isOrMapRecord, trail)) return fail(trail, "orRecord");
  if (!isAbsentOr(value, "orTag", (tag): tag is string => typeof tag === "string", trail)) return fail(trail, "orTag");
  return true;
}

function isWhole(value: unknown): value is number {
  return Number.isSafeInteger(value) && Number(value) >= 0;
}

function hasOptionalTtl(value: Record<string, unknown>, trail: string[]): boolean {
  return isAbsentOr(value, "ttlMs", (ttl): ttl is number => isWhole(ttl), trail) || fail(trail, "ttlMs");
}

/** An optional field: absent, nil (which reads as absent and is deleted, as core's `optionalField`), or valid. */
function isAbsentOr<T>(value: Record<string, unknown>, key: string, guard: Guard<T>, trail: string[]): boolean {
  const field = value[key];
  if (field === undefined) return true;
  if (field === null) {
    delete value[key];
    return true;
  }
  return guard(field, trail);
}
