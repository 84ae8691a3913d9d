import { describe, expect, it } from "vitest";
import { MAX_BATCH_OPS } from "../limits.ts";
import { parseHotOps } from "./hot-ops.ts";
import { clientMessageSchema, parseClientMessage } from "./message.ts";

const ts = { millis: 1_700_000_000_000, counter: 3, nodeId: "client-a" };
const put = { id: "1", mapName: "todos", key: "t:1", opType: "PUT", record: { value: { title: "milk", done: false }, timestamp: ts } };

/** Ops of every shape real clients send, and the odd-but-valid ones the schema accepts. */
const validOps: Record<string, Record<string, unknown>> = {
  put,
  "put with extra fields (stripped)": { ...put, synced: false, timestamp: ts },
  "put with ttl and write concern": { ...put, record: { ...put.record, ttlMs: 5000 }, writeConcern: "PERSISTED", timeout: 100 },
  "nil optional fields": { ...put, id: null, opType: null, writeConcern: null, timeout: null, record: { ...put.record, ttlMs: null } },
  "remove by null record": { id: "2", mapName: "todos", key: "t:1", opType: "REMOVE", record: null },
  tombstone: { id: "3", mapName: "todos", key: "t:1", record: { value: null, timestamp: ts } },
  "or add": { id: "4", mapName: "tags", key: "k", opType: "OR_ADD", orRecord: { value: "x", timestamp: ts, tag: "1:0:a" } },
  "or remove": { id: "5", mapName: "tags", key: "k", opType: "OR_REMOVE", orTag: "1:0:a", orRecord: null },
  "binary value": { ...put, record: { value: new Uint8Array([1, 2]), timestamp: ts } },
};

/** Ops the guard leaves to the schema (which rejects most of them, and words the error). */
const oddOps: Record<string, Record<string, unknown>> = {
  "empty map name": { ...put, mapName: "" },
  "key too long": { ...put, key: "k".repeat(1025) },
  "negative millis": { ...put, record: { value: 1, timestamp: { ...ts, millis: -1 } } },
  "fractional counter": { ...put, record: { value: 1, timestamp: { ...ts, counter: 1.5 } } },
  "bigint millis": { ...put, record: { value: 1, timestamp: { ...ts, millis: 1_700_000_000_000n } } },
  "unknown write concern": { ...put, writeConcern: "SOMETIMES" },
  "record without value": { ...put, record: { timestamp: ts } },
  "array payload": { 0: "not an op" },
  "numeric id": { ...put, id: 7 },
};

const schemaOf = (raw: unknown) => clientMessageSchema.safeParse(raw);

describe("parseHotOps", () => {
  for (const [name, op] of Object.entries(validOps)) {
    it(`builds the value the schema builds for an OP_BATCH op: ${name}`, () => {
      const raw = { type: "OP_BATCH", payload: { ops: [op, put], writeConcern: "APPLIED" } };
      const hot = parseHotOps(raw);
      expect(hot).toBeDefined();
      expect(hot).toEqual(schemaOf(raw).data);
    });

    it(`builds the value the schema builds for a CLIENT_OP: ${name}`, () => {
      const raw = { type: "CLIENT_OP", payload: op, extra: 1 };
      expect(parseHotOps(raw)).toEqual(schemaOf(raw).data);
    });
  }

  for (const [name, op] of Object.entries(oddOps)) {
    it(`leaves an op to the schema: ${name}`, () => {
      expect(parseHotOps({ type: "OP_BATCH", payload: { ops: [put, op] } })).toBeUndefined();
      expect(parseHotOps({ type: "CLIENT_OP", payload: op })).toBeUndefined();
    });
  }

  it("leaves a batch over the op limit to the schema, which answers TOO_LARGE", () => {
    const raw = { type: "OP_BATCH", payload: { ops: new Array(MAX_BATCH_OPS + 1).fill(put) } };
    expect(parseHotOps(raw)).toBeUndefined();
    const parsed = parseClientMessage(raw);
    expect(parsed.ok === false && "error" in parsed && parsed.error.kind).toBe("TOO_LARGE");
  });

  it("gives a bad op the schema's error through parseClientMessage", () => {
    const parsed = parseClientMessage({ type: "OP_BATCH", payload: { ops: [put, oddOps["negative millis"]] } });
    expect(parsed.ok === false && "error" in parsed && parsed.error.message).toMatch(/^invalid OP_BATCH at payload\.ops\.1\.record/);
  });

  it("accepts a bigint millis through the schema's fallback", () => {
    const parsed = parseClientMessage({ type: "CLIENT_OP", payload: oddOps["bigint millis"] });
    expect(parsed.ok && parsed.message.type === "CLIENT_OP" && parsed.message.payload.record?.timestamp.millis).toBe(1_700_000_000_000);
  });
});
