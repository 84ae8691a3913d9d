import { describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage } from "../../core/codec.ts";
import { toWireCounterState } from "../../core/protocol/counters.ts";
import { parseServerMessage as parseWithSchema, SERVER_MESSAGE_TYPES, type ServerMessageType } from "../../core/protocol/message.ts";
import { parseServerMessage } from "./parse-server-message.ts";

const ts = { millis: 1_700_000_000_000, counter: 2, nodeId: "edge" };
const record = { value: { title: "Buy milk" }, timestamp: ts, ttlMs: 60_000 };
const orRecord = { value: "milk", timestamp: ts, tag: "1700000000000:2:edge" };
const entry = { key: "list-1", records: [orRecord], tombstones: ["1699999999999:0:edge"] };
const journalEvent = { sequence: "1", type: "PUT", mapName: "todos", key: "t1", value: 1, timestamp: ts, nodeId: "edge" };
const serverEvent = { mapName: "todos", eventType: "PUT", key: "t1", record };
const orEvent = { mapName: "tags", eventType: "OR_ADD", key: "t1", orRecord, orTag: orRecord.tag };

/** One realistic message per server type, with its optional fields filled where that tests more. */
const samples: Record<ServerMessageType, Record<string, unknown>> = {
  AUTH_REQUIRED: { type: "AUTH_REQUIRED" },
  AUTH_ACK: { type: "AUTH_ACK", userId: "alice", protocolVersion: 1 },
  AUTH_FAIL: { type: "AUTH_FAIL", error: "InvalidSignature", code: 401 },
  ERROR: { type: "ERROR", payload: { code: 501, message: "not implemented", details: { at: "x" } } },
  PONG: { type: "PONG", timestamp: 1_700_000_000_000, serverTime: 1_700_000_000_005 },
  BATCH: { type: "BATCH", count: 0, data: new Uint8Array([0, 0, 0, 0]) },
  OP_ACK: {
    type: "OP_ACK",
    payload: { lastId: "7", achievedLevel: "APPLIED", results: [{ opId: "7", success: false, achievedLevel: "MEMORY", error: "no" }] },
  },
  OP_REJECTED: { type: "OP_REJECTED", payload: { opId: "8", reason: "timestamp too far ahead", code: 409 } },
  SERVER_EVENT: { type: "SERVER_EVENT", payload: serverEvent },
  SERVER_BATCH_EVENT: { type: "SERVER_BATCH_EVENT", payload: { events: [serverEvent, orEvent] } },
  SYNC_RESP_ROOT: { type: "SYNC_RESP_ROOT", payload: { mapName: "todos", rootHash: 2_625_408_098, timestamp: ts } },
  SYNC_RESP_BUCKETS: { type: "SYNC_RESP_BUCKETS", payload: { mapName: "todos", path: "e", buckets: { "4": 1, "7": 0 } } },
  SYNC_RESP_LEAF: { type: "SYNC_RESP_LEAF", payload: { mapName: "todos", path: "e40", records: [{ key: "a", record }] } },
  SYNC_RESET_REQUIRED: { type: "SYNC_RESET_REQUIRED", payload: { mapName: "todos", reason: "tombstones pruned" } },
  GC_PRUNE: { type: "GC_PRUNE", payload: { olderThan: ts } },
  ORMAP_SYNC_RESP_ROOT: { type: "ORMAP_SYNC_RESP_ROOT", payload: { mapName: "lists", rootHash: 0, timestamp: ts } },
  ORMAP_SYNC_RESP_BUCKETS: { type: "ORMAP_SYNC_RESP_BUCKETS", payload: { mapName: "lists", path: "", buckets: {} } },
  ORMAP_SYNC_RESP_LEAF: { type: "ORMAP_SYNC_RESP_LEAF", payload: { mapName: "lists", path: "123", entries: [entry] } },
  ORMAP_DIFF_RESPONSE: { type: "ORMAP_DIFF_RESPONSE", payload: { mapName: "lists", entries: [entry] } },
  QUERY_RESP: {
    type: "QUERY_RESP",
    payload: { queryId: "q-1", results: [{ key: "t1", value: record.value }], nextCursor: "c1", hasMore: true, cursorStatus: "valid" },
  },
  QUERY_UPDATE: { type: "QUERY_UPDATE", payload: { queryId: "q-1", key: "t1", value: null, changeType: "LEAVE" } },
  SCHEMA_RESP: { type: "SCHEMA_RESP", payload: { requestId: "schema-1", mapName: "todos", version: 2, schema: { type: "object" } } },
  SQL_QUERY_RESP: {
    type: "SQL_QUERY_RESP",
    payload: { queryId: "sql-1", columns: ["_key", "n"], rows: [["a", 1]], error: "unsupported SQL: JOIN", code: "UNSUPPORTED" },
  },
  SEARCH_RESP: {
    type: "SEARCH_RESP",
    payload: { requestId: "s-1", results: [{ key: "a1", value: null, score: 1.5, matchedTerms: ["edge"] }], totalCount: 1, error: "e" },
  },
  SEARCH_UPDATE: {
    type: "SEARCH_UPDATE",
    payload: { subscriptionId: "ss-1", key: "a1", value: null, score: 0, matchedTerms: [], changeType: "LEAVE" },
  },
  PARTITION_MAP: {
    type: "PARTITION_MAP",
    payload: {
      version: 1,
      partitionCount: 271,
      nodes: [{ nodeId: "n1", endpoints: { websocket: "wss://n1/ws", http: "https://n1" }, status: "ACTIVE" }],
      partitions: [{ partitionId: 0, ownerNodeId: "n1", backupNodeIds: ["n2"] }],
      generatedAt: 1_700_000_000_000,
    },
  },
  TOPIC_MESSAGE: {
    type: "TOPIC_MESSAGE",
    payload: { topic: "chat/room-1", data: "hi", publisherId: "bob", timestamp: 1_700_000_000_000 },
  },
  LOCK_GRANTED: { type: "LOCK_GRANTED", payload: { requestId: "l-1", name: "invoice-42", fencingToken: 1 } },
  LOCK_RELEASED: { type: "LOCK_RELEASED", payload: { requestId: "l-2", name: "invoice-42", success: true } },
  COUNTER_RESPONSE: { type: "COUNTER_RESPONSE", payload: { name: "likes", state: { p: { a: 1 }, n: {} } } },
  COUNTER_UPDATE: { type: "COUNTER_UPDATE", payload: { name: "likes", state: toWireCounterState({ p: { a: 2 }, n: { b: 1 } }) } },
  ENTRY_PROCESS_RESPONSE: { type: "ENTRY_PROCESS_RESPONSE", requestId: "e-1", success: true, result: 3, newValue: null },
  ENTRY_PROCESS_BATCH_RESPONSE: {
    type: "ENTRY_PROCESS_BATCH_RESPONSE",
    requestId: "e-2",
    results: { "sku-1": { success: true, newValue: 2 }, "sku-2": { success: false, error: "unknown processor" } },
  },
  REGISTER_RESOLVER_RESPONSE: { type: "REGISTER_RESOLVER_RESPONSE", requestId: "r-1", success: false, error: "no sandbox" },
  UNREGISTER_RESOLVER_RESPONSE: { type: "UNREGISTER_RESOLVER_RESPONSE", requestId: "r-2", success: true },
  LIST_RESOLVERS_RESPONSE: {
    type: "LIST_RESOLVERS_RESPONSE",
    requestId: "r-3",
    resolvers: [{ mapName: "todos", name: "keep-higher", priority: 50, keyPattern: "a*" }],
  },
  MERGE_REJECTED: { type: "MERGE_REJECTED", mapName: "todos", key: "t1", attemptedValue: 1, reason: "lower", timestamp: ts },
  JOURNAL_EVENT: { type: "JOURNAL_EVENT", event: { ...journalEvent, previousValue: 0, metadata: { by: "x" } } },
  JOURNAL_READ_RESPONSE: { type: "JOURNAL_READ_RESPONSE", requestId: "j-2", events: [journalEvent], hasMore: false },
};

/** As the client receives it: through the wire codec. */
const wire = (message: unknown): unknown => decodeMessage(encodeMessage(message));

/** Every path to a value inside `value`, maps and lists alike. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => [[...prefix, i], ...paths(item, [...prefix, i])]);
  if (typeof value === "object" && value !== null && !(value instanceof Uint8Array)) {
    return Object.entries(value).flatMap(([key, item]) => [[...prefix, key], ...paths(item, [...prefix, key])]);
  }
  return [];
}

function replaced(message: unknown, path: (string | number)[], replacement: unknown): unknown {
  const copy = wire(message);
  let at: unknown = copy;
  for (const step of path.slice(0, -1)) at = Reflect.get(Object(at), step);
  Reflect.set(Object(at), path.at(-1) ?? "", replacement);
  return copy;
}

const schemaOk = (raw: unknown) => parseWithSchema(raw).ok;
const guardOk = (raw: unknown) => parseServerMessage(raw).ok;

describe("the client's server-message guards", () => {
  it("have a sample for every server type", () => {
    expect(new Set(Object.keys(samples))).toEqual(SERVER_MESSAGE_TYPES);
  });

  it.each(Object.entries(samples))("read a %s as core's schema reads it, keeping unknown keys", (_type, sample) => {
    const fromSchema = parseWithSchema(wire(sample));
    const fromGuards = parseServerMessage(wire(sample));

    // Unknown keys stay in place (core strips them), so the guards' message holds at least what the schema's does.
    if (!fromSchema.ok) throw new Error("core's schema refused the sample");
    expect(fromGuards.ok && fromGuards.message).toMatchObject(fromSchema.message);
  });

  it.each(Object.entries(samples))("agree with core's schema on a %s with any one field of the wrong type", (_type, sample) => {
    const disagreements: string[] = [];
    for (const path of paths(sample)) {
      for (const replacement of [{ x: 1 }, "x", 1.5, -1, true, null, [1]]) {
        const expected = schemaOk(replaced(sample, path, replacement));
        if (guardOk(replaced(sample, path, replacement)) !== expected) disagreements.push(`${path.join(".")} = ${JSON.stringify(replacement)}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it("reads Rust's doubly nested JOURNAL_EVENT like the TS form", () => {
    const result = parseServerMessage(wire({ type: "JOURNAL_EVENT", event: { event: journalEvent } }));

    expect(result.ok && result.message.type === "JOURNAL_EVENT" && result.message.event.sequence).toBe("1");
  });

  it("reads a counter state sent as {positive, negative} as {p, n}", () => {
    const result = parseServerMessage(wire({ type: "COUNTER_UPDATE", payload: { name: "c", state: { positive: { a: 2 }, negative: {} } } }));

    expect(result.ok && result.message.type === "COUNTER_UPDATE" && result.message.payload.state).toMatchObject({ p: { a: 2 }, n: {} });
  });

  it("reads a nil ttlMs inside a record as absent", () => {
    const leaf = { type: "SYNC_RESP_LEAF", payload: { mapName: "m", path: "e40", records: [{ key: "a", record: { ...record, ttlMs: null } }] } };

    const result = parseServerMessage(wire(leaf));

    expect(result.ok && result.message.type === "SYNC_RESP_LEAF" && "ttlMs" in (result.message.payload.records[0]?.record ?? {})).toBe(false);
  });

  it("keeps a nil value, which is a tombstone, not an absent field", () => {
    const result = parseServerMessage(wire({ type: "SERVER_EVENT", payload: { ...serverEvent, record: { ...record, value: null } } }));

    expect(result.ok && result.message.type === "SERVER_EVENT" && result.message.payload.record).toEqual({ ...record, value: null });
  });

  it("names the field that fails", () => {
    const result = parseServerMessage(wire({ type: "SYNC_RESP_LEAF", payload: { mapName: "m", path: "e", records: [{ key: "a", record: { value: 1, timestamp: { ...ts, counter: 1.5 } } }] } }));

    expect(!result.ok && result.error).toBe("invalid SYNC_RESP_LEAF at payload.records.0.record.timestamp.counter");
  });

  it("refuses a type the server never sends", () => {
    expect(parseServerMessage({ type: "CLIENT_OP", payload: {} })).toEqual({ ok: false, error: 'unknown message type "CLIENT_OP"' });
  });

  it("refuses a frame that is not a map with a string type", () => {
    expect(parseServerMessage([1, 2]).ok).toBe(false);
    expect(parseServerMessage({ type: 7 }).ok).toBe(false);
  });
});
