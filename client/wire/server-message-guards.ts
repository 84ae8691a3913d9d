// One guard per server→client message type (PROTOCOL.md §3). The table is typed by core's inferred message
// types, so a guard that accepts a shape the client's handlers cannot read does not compile, and a server type
// added to core without a guard here fails the typecheck.
import type { ServerMessage, ServerMessageType } from "../../core/protocol/message.ts";
import type { PNCounterState } from "../../core/protocol/shared.ts";
import {
  arrayOf,
  fail,
  isAnything,
  isBinary,
  isBoolean,
  isInteger,
  isMap,
  isNumber,
  isString,
  isUnsigned,
  objectOf,
  oneOf,
  optional,
  recordOf,
  type Guard,
} from "./guard.ts";
import { isLwwRecord, isOrMapEntry, isServerEventPayload, isTimestamp } from "./record-guards.ts";

type GuardTable = { [T in ServerMessageType]: Guard<Extract<ServerMessage, { type: T }>> };

const isWriteConcern = oneOf("FIRE_AND_FORGET", "MEMORY", "APPLIED", "REPLICATED", "PERSISTED");
const isChangeType = oneOf("ENTER", "UPDATE", "LEAVE");
const isJournalEventType = oneOf("PUT", "UPDATE", "DELETE");
const isCounterSide = recordOf(isNumber);
/** A Merkle bucket path: lowercase hex digits ("" is the root). */
const isMerklePath: Guard<string> = (value): value is string => typeof value === "string" && /^[0-9a-f]*$/.test(value);

const rootPayload = objectOf({ mapName: isString, rootHash: isUnsigned, timestamp: isTimestamp });
const bucketsPayload = objectOf({ mapName: isString, path: isMerklePath, buckets: recordOf(isUnsigned) });
const processorOutcome = {
  success: isBoolean,
  result: optional(isAnything),
  newValue: optional(isAnything),
  error: optional(isString),
};
const resolverResponse = { requestId: isString, success: isBoolean, error: optional(isString) };
const isJournalEventData = objectOf({
  sequence: isString,
  type: isJournalEventType,
  mapName: isString,
  key: isString,
  value: optional(isAnything),
  previousValue: optional(isAnything),
  timestamp: isTimestamp,
  nodeId: isString,
  metadata: optional(recordOf(isAnything)),
});

/**
 * A PN-counter state in either spelling (PROTOCOL.md §11.3); `{positive, negative}` is rewritten in place to
 * `{p, n}`, the form core's schema reads it as.
 */
function isCounterState(value: unknown, trail: string[]): value is PNCounterState {
  if (!isMap(value)) return false;
  if (isCounterSide(value.p, []) && isCounterSide(value.n, [])) return true;
  if (!isCounterSide(value.positive, trail) || !isCounterSide(value.negative, trail)) return false;
  value.p = value.positive;
  value.n = value.negative;
  return true;
}

const counterPayload = objectOf({ name: isString, state: isCounterState });

/** TS nests a journal event once, Rust twice (`event.event`); the outer level is unwrapped in place. */
function isJournalEventMessage(value: unknown, trail: string[]): value is Extract<ServerMessage, { type: "JOURNAL_EVENT" }> {
  if (!isMap(value)) return false;
  const event = value.event;
  if (isMap(event) && isMap(event.event)) value.event = event.event;
  return isJournalEventData(value.event, trail) || fail(trail, "event");
}

export const serverMessageGuards: GuardTable = {
  AUTH_REQUIRED: objectOf({ type: oneOf("AUTH_REQUIRED") }),
  AUTH_ACK: objectOf({ type: oneOf("AUTH_ACK"), protocolVersion: optional(isUnsigned), userId: optional(isString) }),
  AUTH_FAIL: objectOf({ type: oneOf("AUTH_FAIL"), error: optional(isString), code: optional(isUnsigned) }),
  ERROR: objectOf({
    type: oneOf("ERROR"),
    payload: objectOf({ code: isUnsigned, message: isString, details: optional(isAnything) }),
  }),
  PONG: objectOf({ type: oneOf("PONG"), timestamp: isUnsigned, serverTime: isUnsigned }),
  BATCH: objectOf({ type: oneOf("BATCH"), count: optional(isUnsigned), data: isBinary }),
  OP_ACK: objectOf({
    type: oneOf("OP_ACK"),
    payload: objectOf({
      lastId: isString,
      achievedLevel: optional(isWriteConcern),
      results: optional(
        arrayOf(objectOf({ opId: isString, success: isBoolean, achievedLevel: isWriteConcern, error: optional(isString) })),
      ),
    }),
  }),
  OP_REJECTED: objectOf({
    type: oneOf("OP_REJECTED"),
    payload: objectOf({ opId: isString, reason: isString, code: optional(isUnsigned) }),
  }),
  SERVER_EVENT: objectOf({ type: oneOf("SERVER_EVENT"), payload: isServerEventPayload }),
  SERVER_BATCH_EVENT: objectOf({
    type: oneOf("SERVER_BATCH_EVENT"),
    payload: objectOf({ events: arrayOf(isServerEventPayload) }),
  }),
  SYNC_RESP_ROOT: objectOf({ type: oneOf("SYNC_RESP_ROOT"), payload: rootPayload }),
  SYNC_RESP_BUCKETS: objectOf({ type: oneOf("SYNC_RESP_BUCKETS"), payload: bucketsPayload }),
  SYNC_RESP_LEAF: objectOf({
    type: oneOf("SYNC_RESP_LEAF"),
    payload: objectOf({
      mapName: isString,
      path: isMerklePath,
      records: arrayOf(objectOf({ key: isString, record: isLwwRecord })),
    }),
  }),
  SYNC_RESET_REQUIRED: objectOf({
    type: oneOf("SYNC_RESET_REQUIRED"),
    payload: objectOf({ mapName: isString, reason: isString }),
  }),
  GC_PRUNE: objectOf({ type: oneOf("GC_PRUNE"), payload: objectOf({ olderThan: isTimestamp }) }),
  ORMAP_SYNC_RESP_ROOT: objectOf({ type: oneOf("ORMAP_SYNC_RESP_ROOT"), payload: rootPayload }),
  ORMAP_SYNC_RESP_BUCKETS: objectOf({ type: oneOf("ORMAP_SYNC_RESP_BUCKETS"), payload: bucketsPayload }),
  ORMAP_SYNC_RESP_LEAF: objectOf({
    type: oneOf("ORMAP_SYNC_RESP_LEAF"),
    payload: objectOf({ mapName: isString, path: isMerklePath, entries: arrayOf(isOrMapEntry) }),
  }),
  ORMAP_DIFF_RESPONSE: objectOf({
    type: oneOf("ORMAP_DIFF_RESPONSE"),
    payload: objectOf({ mapName: isString, entries: arrayOf(isOrMapEntry) }),
  }),
  QUERY_RESP: objectOf({
    type: oneOf("QUERY_RESP"),
    payload: objectOf({
      queryId: isString,
      results: arrayOf(objectOf({ key: isString, value: isAnything })),
      nextCursor: optional(isString),
      hasMore: optional(isBoolean),
      cursorStatus: optional(oneOf("valid", "expired", "invalid", "none")),
      merkleRootHash: optional(isNumber),
    }),
  }),
  QUERY_UPDATE: objectOf({
    type: oneOf("QUERY_UPDATE"),
    payload: objectOf({ queryId: isString, key: isString, value: isAnything, changeType: isChangeType }),
  }),
  SQL_QUERY_RESP: objectOf({
    type: oneOf("SQL_QUERY_RESP"),
    payload: objectOf({
      queryId: isString,
      columns: arrayOf(isString),
      rows: arrayOf(arrayOf(isAnything)),
      error: optional(isString),
      code: optional(isString),
    }),
  }),
  SCHEMA_RESP: objectOf({
    type: oneOf("SCHEMA_RESP"),
    payload: objectOf({
      requestId: isString,
      mapName: isString,
      version: isUnsigned,
      schema: optional(isAnything),
      error: optional(isString),
      code: optional(isNumber),
    }),
  }),
  SEARCH_RESP: objectOf({
    type: oneOf("SEARCH_RESP"),
    payload: objectOf({
      requestId: isString,
      results: arrayOf(objectOf({ key: isString, value: isAnything, score: isNumber, matchedTerms: arrayOf(isString) })),
      totalCount: isUnsigned,
      error: optional(isString),
    }),
  }),
  SEARCH_UPDATE: objectOf({
    type: oneOf("SEARCH_UPDATE"),
    payload: objectOf({
      subscriptionId: isString,
      key: isString,
      value: isAnything,
      score: isNumber,
      matchedTerms: arrayOf(isString),
      changeType: isChangeType,
    }),
  }),
  PARTITION_MAP: objectOf({
    type: oneOf("PARTITION_MAP"),
    payload: objectOf({
      version: isUnsigned,
      partitionCount: isUnsigned,
      nodes: arrayOf(
        objectOf({
          nodeId: isString,
          endpoints: objectOf({ websocket: isString, http: optional(isString) }),
          status: oneOf("ACTIVE", "JOINING", "LEAVING", "SUSPECTED", "FAILED"),
        }),
      ),
      partitions: arrayOf(objectOf({ partitionId: isUnsigned, ownerNodeId: isString, backupNodeIds: arrayOf(isString) })),
      generatedAt: isInteger,
    }),
  }),
  TOPIC_MESSAGE: objectOf({
    type: oneOf("TOPIC_MESSAGE"),
    payload: objectOf({ topic: isString, data: isAnything, publisherId: optional(isString), timestamp: isUnsigned }),
  }),
  LOCK_GRANTED: objectOf({
    type: oneOf("LOCK_GRANTED"),
    payload: objectOf({ requestId: isString, name: isString, fencingToken: isUnsigned }),
  }),
  LOCK_RELEASED: objectOf({
    type: oneOf("LOCK_RELEASED"),
    payload: objectOf({ requestId: isString, name: isString, success: isBoolean }),
  }),
  COUNTER_RESPONSE: objectOf({ type: oneOf("COUNTER_RESPONSE"), payload: counterPayload }),
  COUNTER_UPDATE: objectOf({ type: oneOf("COUNTER_UPDATE"), payload: counterPayload }),
  ENTRY_PROCESS_RESPONSE: objectOf({ type: oneOf("ENTRY_PROCESS_RESPONSE"), requestId: isString, ...processorOutcome }),
  ENTRY_PROCESS_BATCH_RESPONSE: objectOf({
    type: oneOf("ENTRY_PROCESS_BATCH_RESPONSE"),
    requestId: isString,
    results: recordOf(objectOf(processorOutcome)),
  }),
  REGISTER_RESOLVER_RESPONSE: objectOf({ type: oneOf("REGISTER_RESOLVER_RESPONSE"), ...resolverResponse }),
  UNREGISTER_RESOLVER_RESPONSE: objectOf({ type: oneOf("UNREGISTER_RESOLVER_RESPONSE"), ...resolverResponse }),
  LIST_RESOLVERS_RESPONSE: objectOf({
    type: oneOf("LIST_RESOLVERS_RESPONSE"),
    requestId: isString,
    resolvers: arrayOf(
      objectOf({ mapName: isString, name: isString, priority: optional(isUnsigned), keyPattern: optional(isString) }),
    ),
  }),
  MERGE_REJECTED: objectOf({
    type: oneOf("MERGE_REJECTED"),
    mapName: isString,
    key: isString,
    attemptedValue: isAnything,
    reason: isString,
    timestamp: isTimestamp,
  }),
  JOURNAL_EVENT: isJournalEventMessage,
  JOURNAL_READ_RESPONSE: objectOf({
    type: oneOf("JOURNAL_READ_RESPONSE"),
    requestId: isString,
    events: arrayOf(isJournalEventData),
    hasMore: isBoolean,
  }),
};
