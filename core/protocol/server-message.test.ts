import { describe, expect, it } from "vitest";
import {
  CLIENT_MESSAGE_TYPES,
  CLUSTER_MESSAGE_TYPES,
  SERVER_MESSAGE_TYPES,
  clusterMessageSchema,
  parseServerMessage,
  type ClusterMessageType,
  type ServerMessageType,
} from "./message.ts";
import { toWireCounterState } from "./counters.ts";

const ts = { millis: 1_700_000_000_000, counter: 2, nodeId: "edge" };
const record = { value: { title: "Buy milk" }, timestamp: ts };
const orRecord = { value: "milk", timestamp: ts, tag: "1700000000000:2:edge" };
const entry = { key: "list-1", records: [orRecord], tombstones: [] };
const journalEvent = { sequence: "1", type: "PUT", mapName: "todos", key: "t1", value: 1, timestamp: ts, nodeId: "edge" };
const serverEvent = { mapName: "todos", eventType: "PUT", key: "t1", record };

/** One realistic message per server type. */
const samples: Record<ServerMessageType, Record<string, unknown>> = {
  AUTH_REQUIRED: { type: "AUTH_REQUIRED" },
  AUTH_ACK: { type: "AUTH_ACK", userId: "alice" },
  AUTH_FAIL: { type: "AUTH_FAIL", error: "InvalidSignature" },
  ERROR: { type: "ERROR", payload: { code: 501, message: "not implemented: coordination" } },
  PONG: { type: "PONG", timestamp: 1_700_000_000_000, serverTime: 1_700_000_000_005 },
  BATCH: { type: "BATCH", count: 0, data: new Uint8Array([0, 0, 0, 0]) },
  OP_ACK: {
    type: "OP_ACK",
    payload: { lastId: "7", achievedLevel: "APPLIED", results: [{ opId: "7", success: true, achievedLevel: "APPLIED" }] },
  },
  OP_REJECTED: { type: "OP_REJECTED", payload: { opId: "8", reason: "timestamp too far ahead", code: 409 } },
  SERVER_EVENT: { type: "SERVER_EVENT", payload: serverEvent },
  SERVER_BATCH_EVENT: { type: "SERVER_BATCH_EVENT", payload: { events: [serverEvent] } },
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
    payload: { queryId: "q-1", results: [{ key: "t1", value: record.value }], nextCursor: "c1", hasMore: true },
  },
  QUERY_UPDATE: { type: "QUERY_UPDATE", payload: { queryId: "q-1", key: "t1", value: null, changeType: "LEAVE" } },
  SQL_QUERY_RESP: { type: "SQL_QUERY_RESP", payload: { queryId: "sql-1", columns: ["_key", "n"], rows: [["a", 1]] } },
  SCHEMA_RESP: { type: "SCHEMA_RESP", payload: { requestId: "schema-1", mapName: "todos", version: 3, schema: { type: "object" } } },
  SEARCH_RESP: {
    type: "SEARCH_RESP",
    payload: { requestId: "s-1", results: [{ key: "a1", value: null, score: 1.5, matchedTerms: ["edge"] }], totalCount: 1 },
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
      nodes: [{ nodeId: "n1", endpoints: { websocket: "wss://n1/ws" }, status: "ACTIVE" }],
      partitions: [{ partitionId: 0, ownerNodeId: "n1", backupNodeIds: [] }],
      generatedAt: 1_700_000_000_000,
    },
  },
  TOPIC_MESSAGE: {
    type: "TOPIC_MESSAGE",
    payload: { topic: "chat/room-1", data: "hi", publisherId: "bob", timestamp: 1_700_000_000_000 },
  },
  LOCK_GRANTED: { type: "LOCK_GRANTED", payload: { requestId: "l-1", name: "invoice-42", fencingToken: 1 } },
  LOCK_RELEASED: { type: "LOCK_RELEASED", payload: { requestId: "l-2", name: "invoice-42", success: true } },
  COUNTER_RESPONSE: { type: "COUNTER_RESPONSE", payload: { name: "likes", state: { p: {}, n: {} } } },
  COUNTER_UPDATE: { type: "COUNTER_UPDATE", payload: { name: "likes", state: toWireCounterState({ p: { a: 2 }, n: {} }) } },
  ENTRY_PROCESS_RESPONSE: { type: "ENTRY_PROCESS_RESPONSE", requestId: "e-1", success: true, result: 3, newValue: 3 },
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
    resolvers: [{ mapName: "todos", name: "keep-higher", priority: 50 }],
  },
  MERGE_REJECTED: { type: "MERGE_REJECTED", mapName: "todos", key: "t1", attemptedValue: 1, reason: "lower", timestamp: ts },
  JOURNAL_EVENT: { type: "JOURNAL_EVENT", event: journalEvent },
  JOURNAL_READ_RESPONSE: { type: "JOURNAL_READ_RESPONSE", requestId: "j-2", events: [journalEvent], hasMore: false },
};

/** One message per node-to-node type. */
const clusterSamples: Record<ClusterMessageType, Record<string, unknown>> = {
  CLUSTER_SUB_REGISTER: {
    type: "CLUSTER_SUB_REGISTER",
    payload: { subscriptionId: "c1", coordinatorNodeId: "n1", mapName: "todos", type: "QUERY", querySort: { a: "asc" } },
  },
  CLUSTER_SUB_ACK: {
    type: "CLUSTER_SUB_ACK",
    payload: { subscriptionId: "c1", nodeId: "n2", success: true, initialResults: [{ key: "t1", value: 1 }], totalHits: 1 },
  },
  CLUSTER_SUB_UPDATE: {
    type: "CLUSTER_SUB_UPDATE",
    payload: { subscriptionId: "c1", sourceNodeId: "n2", key: "t1", value: 1, changeType: "ENTER", timestamp: 1_700_000_000_000 },
  },
  CLUSTER_SUB_UNREGISTER: { type: "CLUSTER_SUB_UNREGISTER", payload: { subscriptionId: "c1" } },
  CLUSTER_SEARCH_REQ: {
    type: "CLUSTER_SEARCH_REQ",
    payload: { requestId: "r1", mapName: "articles", query: "edge", options: { limit: 10 }, timeoutMs: 5000 },
  },
  CLUSTER_SEARCH_RESP: {
    type: "CLUSTER_SEARCH_RESP",
    payload: { requestId: "r1", nodeId: "n2", results: [{ key: "a1", value: null, score: 2 }], totalHits: 1, executionTimeMs: 3 },
  },
  CLUSTER_SEARCH_SUBSCRIBE: {
    type: "CLUSTER_SEARCH_SUBSCRIBE",
    payload: { subscriptionId: "c2", mapName: "articles", query: "edge" },
  },
  CLUSTER_SEARCH_UNSUBSCRIBE: { type: "CLUSTER_SEARCH_UNSUBSCRIBE", payload: { subscriptionId: "c2" } },
  CLUSTER_SEARCH_UPDATE: {
    type: "CLUSTER_SEARCH_UPDATE",
    payload: { subscriptionId: "c2", nodeId: "n2", key: "a1", value: null, score: 1, changeType: "UPDATE" },
  },
};

describe("message catalogue", () => {
  it("holds the protocol's 77 v0.12 types and the 3 of TopGun main the edge speaks (QUERY_SYNC_INIT, SQL_QUERY, SQL_QUERY_RESP) and its own 2 (SCHEMA_GET, SCHEMA_RESP), with only BATCH in both directions", () => {
    const all = new Set([...CLIENT_MESSAGE_TYPES, ...SERVER_MESSAGE_TYPES, ...CLUSTER_MESSAGE_TYPES]);
    expect(all.size).toBe(82);
    expect([...CLIENT_MESSAGE_TYPES].filter((type) => SERVER_MESSAGE_TYPES.has(type))).toEqual(["BATCH"]);
    expect(CLUSTER_MESSAGE_TYPES.size).toBe(9);
  });

  it("has a sample for every server and cluster type", () => {
    expect(new Set(Object.keys(samples))).toEqual(SERVER_MESSAGE_TYPES);
    expect(new Set(Object.keys(clusterSamples))).toEqual(CLUSTER_MESSAGE_TYPES);
  });
});

describe("parseServerMessage", () => {
  it.each(Object.entries(samples))("parses a realistic %s", (type, sample) => {
    const result = parseServerMessage(sample);
    expect(result.ok && result.message.type).toBe(type);
  });

  it("ignores a client type sent by a server", () => {
    expect(parseServerMessage({ type: "CLIENT_OP", payload: {} })).toEqual({ ok: false, ignore: true, type: "CLIENT_OP" });
  });

  it("reads Rust's doubly nested JOURNAL_EVENT like the TS form", () => {
    const result = parseServerMessage({ type: "JOURNAL_EVENT", event: { event: journalEvent } });
    if (!result.ok || result.message.type !== "JOURNAL_EVENT") throw new Error("JOURNAL_EVENT did not parse");
    expect(result.message.event.sequence).toBe("1");
  });

  it("reads a counter state sent in both spellings as {p, n}", () => {
    const result = parseServerMessage(samples.COUNTER_UPDATE);
    if (!result.ok || result.message.type !== "COUNTER_UPDATE") throw new Error("COUNTER_UPDATE did not parse");
    expect(result.message.payload.state).toEqual({ p: { a: 2 }, n: {} });
  });

  it("reads Rust's nil ttlMs inside records as absent", () => {
    const leaf = { type: "SYNC_RESP_LEAF", payload: { mapName: "m", path: "e40", records: [{ key: "a", record: { ...record, ttlMs: null } }] } };
    const result = parseServerMessage(leaf);
    if (!result.ok || result.message.type !== "SYNC_RESP_LEAF") throw new Error("SYNC_RESP_LEAF did not parse");
    expect(result.message.payload.records[0]?.record.ttlMs).toBeUndefined();
  });

  it.each([
    ["PONG", { type: "PONG", timestamp: 1, serverTime: 1_700_000_000_000n }],
    ["ERROR", { type: "ERROR", payload: { code: 501n, message: "x" } }],
    ["SYNC_RESP_ROOT", { type: "SYNC_RESP_ROOT", payload: { mapName: "m", rootHash: 70_000n, timestamp: { ...ts, millis: 1_700_000_000_000n } } }],
  ])("accepts Rust's uint64 integers (decoded as BigInt) in %s", (_type, raw) => {
    expect(parseServerMessage(raw).ok).toBe(true);
  });

  it("rejects a fractional serverTime and names the field", () => {
    const result = parseServerMessage({ type: "PONG", timestamp: 1, serverTime: 1.5 });
    expect(!result.ok && "error" in result && result.error.safeMessage).toContain("serverTime");
  });
});

describe("cluster messages", () => {
  it.each(Object.entries(clusterSamples))("parses %s", (type, sample) => {
    const result = clusterMessageSchema.safeParse(sample);
    expect(result.success && result.data.type).toBe(type);
  });

  it("requires a search limit of 1..1000 in CLUSTER_SEARCH_REQ", () => {
    const request = (limit: number) => ({ ...clusterSamples.CLUSTER_SEARCH_REQ, payload: { requestId: "r", mapName: "m", query: "q", options: { limit } } });
    expect(clusterMessageSchema.safeParse(request(0)).success).toBe(false);
    expect(clusterMessageSchema.safeParse(request(1001)).success).toBe(false);
  });
});
