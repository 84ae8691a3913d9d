import { describe, expect, it } from "vitest";
import { unpack } from "msgpackr";
import { MAX_BATCH_OPS, MAX_KEYS_PER_REQUEST } from "../limits.ts";
import { CLIENT_MESSAGE_TYPES, parseClientMessage, type ClientMessageType } from "./message.ts";

const ts = { millis: 1_700_000_000_000, counter: 0, nodeId: "client-a" };
const record = { value: { title: "Buy milk", done: false }, timestamp: ts };
const orRecord = { value: "milk", timestamp: ts, tag: "1700000000000:0:client-a" };
const op = { id: "1", mapName: "todos", key: "todo:1", opType: "PUT", record, timestamp: ts, synced: false };

/** One realistic message per client type, as TopGun clients send them. */
const samples: Record<ClientMessageType, Record<string, unknown>> = {
  AUTH: { type: "AUTH", token: "eyJhbGciOiJIUzI1NiJ9.e30.sig", protocolVersion: 1 },
  PING: { type: "PING", timestamp: 1_700_000_000_000 },
  BATCH: { type: "BATCH", count: 1, data: new Uint8Array([0, 0, 0, 1, 0xc0]) },
  CLIENT_OP: { type: "CLIENT_OP", payload: op },
  OP_BATCH: { type: "OP_BATCH", payload: { ops: [op], writeConcern: "APPLIED", timeout: 5000 } },
  SYNC_INIT: { type: "SYNC_INIT", mapName: "todos", lastSyncTimestamp: 0 },
  MERKLE_REQ_BUCKET: { type: "MERKLE_REQ_BUCKET", payload: { mapName: "todos", path: "e4" } },
  ORMAP_SYNC_INIT: {
    type: "ORMAP_SYNC_INIT",
    mapName: "lists",
    rootHash: 1_174_934_927,
    bucketHashes: { e: 1_174_934_927 },
    lastSyncTimestamp: 1_700_000_000_000,
  },
  ORMAP_MERKLE_REQ_BUCKET: { type: "ORMAP_MERKLE_REQ_BUCKET", payload: { mapName: "lists", path: "" } },
  ORMAP_DIFF_REQUEST: { type: "ORMAP_DIFF_REQUEST", payload: { mapName: "lists", keys: ["list-1"] } },
  ORMAP_PUSH_DIFF: {
    type: "ORMAP_PUSH_DIFF",
    payload: { mapName: "lists", entries: [{ key: "list-1", records: [orRecord], tombstones: ["1:0:old"] }] },
  },
  QUERY_SUB: {
    type: "QUERY_SUB",
    payload: {
      queryId: "q-1",
      mapName: "todos",
      query: {
        predicate: {
          op: "and",
          children: [
            { op: "eq", attribute: "done", value: false },
            { op: "contains", attribute: "title", value: "milk" },
          ],
        },
        sort: { createdAt: "desc", title: "asc" },
        limit: 50,
      },
    },
  },
  QUERY_UNSUB: { type: "QUERY_UNSUB", payload: { queryId: "q-1" } },
  QUERY_SYNC_INIT: { type: "QUERY_SYNC_INIT", payload: { queryId: "q-1", rootHash: 12345 } },
  SQL_QUERY: { type: "SQL_QUERY", payload: { queryId: "sql-1", sql: "SELECT _key, title FROM todos WHERE done = false" } },
  SCHEMA_GET: { type: "SCHEMA_GET", payload: { requestId: "schema-1", mapName: "todos" } },
  SEARCH: {
    type: "SEARCH",
    payload: { requestId: "s-1", mapName: "articles", query: "edge sync", options: { limit: 10, minScore: 0.5, boost: { title: 2 } } },
  },
  SEARCH_SUB: { type: "SEARCH_SUB", payload: { subscriptionId: "ss-1", mapName: "articles", query: "edge" } },
  SEARCH_UNSUB: { type: "SEARCH_UNSUB", payload: { subscriptionId: "ss-1" } },
  PARTITION_MAP_REQUEST: { type: "PARTITION_MAP_REQUEST", payload: { currentVersion: 0 } },
  TOPIC_SUB: { type: "TOPIC_SUB", payload: { topic: "chat/room-1" } },
  TOPIC_UNSUB: { type: "TOPIC_UNSUB", payload: { topic: "chat/room-1" } },
  TOPIC_PUB: { type: "TOPIC_PUB", payload: { topic: "chat/room-1", data: { text: "hi" } } },
  LOCK_REQUEST: { type: "LOCK_REQUEST", payload: { requestId: "l-1", name: "invoice-42", ttl: 10_000 } },
  LOCK_RELEASE: { type: "LOCK_RELEASE", payload: { requestId: "l-2", name: "invoice-42", fencingToken: 1 } },
  COUNTER_REQUEST: { type: "COUNTER_REQUEST", payload: { name: "likes" } },
  COUNTER_SYNC: { type: "COUNTER_SYNC", payload: { name: "likes", state: { positive: { "client-a": 3 }, negative: {} } } },
  ENTRY_PROCESS: {
    type: "ENTRY_PROCESS",
    requestId: "e-1",
    mapName: "stock",
    key: "sku-1",
    processor: { name: "increment", code: "return { value: (value ?? 0) + args };", args: 1 },
  },
  ENTRY_PROCESS_BATCH: {
    type: "ENTRY_PROCESS_BATCH",
    requestId: "e-2",
    mapName: "stock",
    keys: ["sku-1", "sku-2"],
    processor: { name: "increment", args: 2 },
  },
  JOURNAL_SUBSCRIBE: { type: "JOURNAL_SUBSCRIBE", requestId: "j-1", fromSequence: "1", mapName: "todos", types: ["PUT", "DELETE"] },
  JOURNAL_UNSUBSCRIBE: { type: "JOURNAL_UNSUBSCRIBE", subscriptionId: "j-1" },
  JOURNAL_READ: { type: "JOURNAL_READ", requestId: "j-2", fromSequence: "1", limit: 100, mapName: "todos" },
  REGISTER_RESOLVER: {
    type: "REGISTER_RESOLVER",
    requestId: "r-1",
    mapName: "todos",
    resolver: { name: "keep-higher", code: "return local;", priority: 50, keyPattern: "todo:*" },
  },
  UNREGISTER_RESOLVER: { type: "UNREGISTER_RESOLVER", requestId: "r-2", mapName: "todos", resolverName: "keep-higher" },
  LIST_RESOLVERS: { type: "LIST_RESOLVERS", requestId: "r-3" },
};

/** A copy of `value` with the field at `path` (dot-separated; digits index arrays) set to `replacement`. */
function withField(value: unknown, path: string, replacement: unknown): unknown {
  return replaceAt(value, path.split("."), replacement);
}

function replaceAt(value: unknown, keys: string[], replacement: unknown): unknown {
  const [head, ...rest] = keys;
  if (head === undefined) return replacement;
  if (Array.isArray(value)) return value.map((item, i) => (i === Number(head) ? replaceAt(item, rest, replacement) : item));
  if (typeof value !== "object" || value === null) throw new Error(`no object at ${head}`);
  const entries = Object.entries(value);
  const current = entries.find(([key]) => key === head)?.[1];
  return { ...Object.fromEntries(entries), [head]: replaceAt(current, rest, replacement) };
}

function errorOf(raw: unknown) {
  const result = parseClientMessage(raw);
  if (result.ok || !("error" in result)) throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  return result.error;
}

describe("parseClientMessage", () => {
  it("has a sample for every client type", () => {
    expect(new Set(Object.keys(samples))).toEqual(CLIENT_MESSAGE_TYPES);
    expect(CLIENT_MESSAGE_TYPES.size).toBe(35);
  });

  it.each(Object.entries(samples))("parses a realistic %s", (type, sample) => {
    const result = parseClientMessage(sample);
    expect(result.ok && result.message.type).toBe(type);
  });

  it("keeps falsy record values and strips keys the schema does not know", () => {
    const result = parseClientMessage(withField(samples.CLIENT_OP, "payload.record.value", false));
    if (!result.ok || result.message.type !== "CLIENT_OP") throw new Error("CLIENT_OP did not parse");
    expect(result.message.payload.record?.value).toBe(false);
    expect("synced" in result.message.payload).toBe(false);
  });

  it("reads the v0.12 client's counter state as {p, n}", () => {
    const result = parseClientMessage(samples.COUNTER_SYNC);
    if (!result.ok || result.message.type !== "COUNTER_SYNC") throw new Error("COUNTER_SYNC did not parse");
    expect(result.message.payload.state).toEqual({ p: { "client-a": 3 }, n: {} });
  });

  it("reads nil optional fields as absent", () => {
    const result = parseClientMessage({ type: "SYNC_INIT", mapName: "todos", lastSyncTimestamp: null });
    if (!result.ok || result.message.type !== "SYNC_INIT") throw new Error("SYNC_INIT did not parse");
    expect(result.message.lastSyncTimestamp).toBeUndefined();
  });

  it("accepts a PARTITION_MAP_REQUEST without a payload", () => {
    expect(parseClientMessage({ type: "PARTITION_MAP_REQUEST" }).ok).toBe(true);
  });

  it("accepts any key string, colons included", () => {
    expect(parseClientMessage(withField(samples.CLIENT_OP, "payload.key", "a:b::c")).ok).toBe(true);
  });

  it("answers UNKNOWN_TYPE for a type outside the protocol", () => {
    expect(errorOf({ type: "HYBRID_QUERY_SUBSCRIBE", payload: {} }).kind).toBe("UNKNOWN_TYPE");
  });

  it.each(["OP_ACK", "QUERY_RESP", "AUTH_REQUIRED", "CLUSTER_SEARCH_REQ", "CLUSTER_SUB_ACK"])(
    "ignores the server or cluster type %s sent by a client",
    (type) => {
      expect(parseClientMessage({ type, payload: { anything: true } })).toEqual({ ok: false, ignore: true, type });
    },
  );

  it.each([null, 42, "PING", [{ type: "PING" }], {}, { type: 7 }, new Uint8Array([1])])(
    "answers INVALID_MESSAGE for %j, which is not a map with a string type",
    (raw) => {
      expect(errorOf(raw).kind).toBe("INVALID_MESSAGE");
    },
  );

  it("names the field path of a wrong shape", () => {
    const err = errorOf(withField(samples.OP_BATCH, "payload.ops.0.mapName", 5));
    expect(err.kind).toBe("INVALID_MESSAGE");
    expect(err.code).toBe(422);
    expect(err.safeMessage).toContain("OP_BATCH");
    expect(err.safeMessage).toContain("payload.ops.0.mapName");
  });

  it("names a missing required field", () => {
    expect(errorOf({ type: "ORMAP_SYNC_INIT", mapName: "lists", bucketHashes: {} }).safeMessage).toContain("rootHash");
  });

  it("rejects an empty map name", () => {
    expect(errorOf(withField(samples.SYNC_INIT, "mapName", "")).safeMessage).toContain("mapName");
  });

  it("rejects a topic with characters outside the topic rule", () => {
    expect(errorOf(withField(samples.TOPIC_PUB, "payload.topic", "chat room")).safeMessage).toContain("payload.topic");
  });

  it("rejects a bucket path that is not lowercase hex", () => {
    expect(errorOf(withField(samples.MERKLE_REQ_BUCKET, "payload.path", "E4")).safeMessage).toContain("payload.path");
  });

  it("answers TOO_LARGE for an OP_BATCH over the op limit", () => {
    const ops = Array.from({ length: MAX_BATCH_OPS + 1 }, (_, i) => ({ ...op, id: String(i) }));
    const err = errorOf({ type: "OP_BATCH", payload: { ops } });
    expect(err.kind).toBe("TOO_LARGE");
    expect(err.code).toBe(413);
  });

  it("accepts an OP_BATCH at the op limit", () => {
    const ops = Array.from({ length: MAX_BATCH_OPS }, (_, i) => ({ ...op, id: String(i) }));
    expect(parseClientMessage({ type: "OP_BATCH", payload: { ops } }).ok).toBe(true);
  });

  it("answers TOO_LARGE for an ORMAP_DIFF_REQUEST over the key limit", () => {
    const keys = Array.from({ length: MAX_KEYS_PER_REQUEST + 1 }, (_, i) => `k${i}`);
    expect(errorOf({ type: "ORMAP_DIFF_REQUEST", payload: { mapName: "lists", keys } }).kind).toBe("TOO_LARGE");
  });

  it("answers TOO_LARGE for a key over the length limit", () => {
    expect(errorOf(withField(samples.CLIENT_OP, "payload.key", "k".repeat(5000))).kind).toBe("TOO_LARGE");
  });

  it("answers INVALID_MESSAGE, not a crash, for a predicate nested until the stack runs out", () => {
    let predicate: Record<string, unknown> = { op: "eq", attribute: "a", value: 1 };
    for (let i = 0; i < 100_000; i++) predicate = { op: "not", children: [predicate] };
    const deep = { type: "QUERY_SUB", payload: { queryId: "q", mapName: "m", query: { predicate } } };
    expect(errorOf(deep).kind).toBe("INVALID_MESSAGE");
  });
});

describe("integer fields on the wire", () => {
  // [type, dot path] of every integer field a client sends (PROTOCOL.md §1.5).
  const integerFields: [ClientMessageType, string][] = [
    ["AUTH", "protocolVersion"],
    ["PING", "timestamp"],
    ["BATCH", "count"],
    ["CLIENT_OP", "payload.record.timestamp.millis"],
    ["CLIENT_OP", "payload.record.timestamp.counter"],
    ["CLIENT_OP", "payload.record.ttlMs"],
    ["CLIENT_OP", "payload.timeout"],
    ["OP_BATCH", "payload.timeout"],
    ["OP_BATCH", "payload.ops.0.timeout"],
    ["SYNC_INIT", "lastSyncTimestamp"],
    ["ORMAP_SYNC_INIT", "rootHash"],
    ["ORMAP_SYNC_INIT", "bucketHashes.e"],
    ["ORMAP_SYNC_INIT", "lastSyncTimestamp"],
    ["ORMAP_PUSH_DIFF", "payload.entries.0.records.0.timestamp.millis"],
    ["QUERY_SUB", "payload.query.limit"],
    ["SEARCH", "payload.options.limit"],
    ["PARTITION_MAP_REQUEST", "payload.currentVersion"],
    ["LOCK_REQUEST", "payload.ttl"],
    ["LOCK_RELEASE", "payload.fencingToken"],
    ["JOURNAL_READ", "limit"],
    ["REGISTER_RESOLVER", "resolver.priority"],
  ];

  it.each(integerFields)("%s accepts a whole number at %s", (type, path) => {
    expect(parseClientMessage(withField(samples[type], path, 7)).ok).toBe(true);
  });

  it.each(integerFields)("%s accepts a BigInt (a decoded uint64) at %s", (type, path) => {
    expect(parseClientMessage(withField(samples[type], path, 7n)).ok).toBe(true);
  });

  it.each(integerFields)("%s rejects a fractional number at %s and names the field", (type, path) => {
    const err = errorOf(withField(samples[type], path, 7.5));
    expect(err.kind).toBe("INVALID_MESSAGE");
    expect(err.safeMessage).toContain(path);
  });

  it("accepts a PING whose timestamp was encoded as a float64", () => {
    // {type: "PING", timestamp: 5.0} with the timestamp written as msgpack float64 (cb).
    const bytes = new Uint8Array(1 + 5 + 5 + 10 + 9);
    const text = new TextEncoder();
    bytes.set([0x82, 0xa4], 0);
    bytes.set(text.encode("type"), 2);
    bytes.set([0xa4], 6);
    bytes.set(text.encode("PING"), 7);
    bytes.set([0xa9], 11);
    bytes.set(text.encode("timestamp"), 12);
    bytes.set([0xcb], 21);
    new DataView(bytes.buffer).setFloat64(22, 5.0);
    const result = parseClientMessage(unpack(bytes));
    expect(result.ok && result.message.type === "PING" && result.message.timestamp).toBe(5);
  });
});
