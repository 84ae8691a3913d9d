import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { SchemaSet } from "../../core/map-schema.ts";
import { parseShardConfig, partitionOf, stalePlacementMessage } from "../../core/placement.ts";
import type { ClientOp } from "../../core/protocol/shared.ts";
import type { OwnerOp, WriteOwner } from "./owner-op.ts";
import { WriteCoordinator } from "./write-coordinator.ts";

const NOW = 1_700_000_000_000;

function setup(options: { failing?: boolean; shards?: string; schemas?: () => SchemaSet | Promise<SchemaSet> } = {}) {
  const calls: { partition: number; ops: OwnerOp[] }[] = [];
  const apply: WriteOwner["apply"] = async ({ ops }) => {
    if (options.failing) throw new Error("owner unavailable");
    return ops.map((op) => ({ index: op.index, ok: true as const }));
  };
  const owner = (partition: number): WriteOwner => ({
    apply: async (request) => {
      calls.push({ partition, ops: request.ops });
      return apply(request);
    },
    applyBatches: async ({ requests }) => Promise.all(requests.map(apply)),
    process: async () => ({}),
  });
  const shards = parseShardConfig(options.shards ?? "");
  const coordinator = new WriteCoordinator({
    owners: owner,
    shards: () => shards,
    hlc: new HLC("edge-p0", { clock: () => NOW }),
    home: 0,
    ...(options.schemas ? { schemas: options.schemas } : {}),
  });
  const sent: { type: string; payload: Record<string, unknown> }[] = [];
  const replies = { send: (m: unknown) => void sent.push(m as { type: string; payload: Record<string, unknown> }) };
  return { coordinator, calls, sent, replies, shards };
}

const op = (id: string, map: string, key: string, millis = NOW): ClientOp => ({
  id,
  mapName: map,
  key,
  opType: "PUT",
  record: { value: key, timestamp: { millis, counter: 0, nodeId: "c" } },
});

describe("WriteCoordinator", () => {
  it("sends one call per owner partition for a batch", async () => {
    const { coordinator, calls, replies } = setup({ shards: "hot:16" });
    const ops = Array.from({ length: 50 }, (_, i) => op(String(i), "hot", `k${i}`));
    await coordinator.write("c1", ops, {}, replies);
    const shards = parseShardConfig("hot:16");
    const owners = new Set(ops.map((o) => partitionOf(shards, o.mapName, o.key)));
    expect(calls.length).toBe(owners.size);
    expect(calls.reduce((n, c) => n + c.ops.length, 0)).toBe(50);
  });

  it("acknowledges with the id of the last op", async () => {
    const { coordinator, sent, replies } = setup();
    await coordinator.write("c1", [op("7", "m", "a"), op("9", "m", "b")], {}, replies);
    expect(sent).toEqual([{ type: "OP_ACK", payload: { lastId: "9" } }]);
  });

  it("rejects a timestamp too far ahead and still acknowledges the rest", async () => {
    const { coordinator, calls, sent, replies } = setup();
    await coordinator.write("c1", [op("1", "m", "a", NOW + 5 * 60_000), op("2", "m", "b")], { writeConcern: "APPLIED" }, replies);
    expect(calls[0]?.ops.map((o) => o.key)).toEqual(["b"]);
    expect(sent[0]).toMatchObject({ type: "OP_REJECTED", payload: { opId: "1" } });
    expect(sent[1]).toMatchObject({
      type: "OP_ACK",
      payload: {
        lastId: "2",
        achievedLevel: "APPLIED",
        results: [
          { opId: "1", success: false },
          { opId: "2", success: true, achievedLevel: "APPLIED" },
        ],
      },
    });
  });

  it("acknowledges MEMORY writes before the owner applies them", async () => {
    const { coordinator, sent, replies } = setup({ failing: true });
    await coordinator.write("c1", [op("1", "m", "a")], { writeConcern: "MEMORY" }, replies);
    expect(sent[0]).toMatchObject({ type: "OP_ACK", payload: { lastId: "1", achievedLevel: "MEMORY" } });
  });

  it("sends no OP_ACK when an owner fails, so the client resends", async () => {
    const { coordinator, sent, replies } = setup({ failing: true });
    await coordinator.write("c1", [op("1", "m", "a")], {}, replies);
    expect(sent.map((m) => m.type)).toEqual(["ERROR"]);
  });

  it("reports PERSISTED as APPLIED while no Postgres is configured", async () => {
    const { coordinator, sent, replies } = setup();
    await coordinator.write("c1", [op("1", "m", "a")], { writeConcern: "PERSISTED" }, replies);
    expect(sent[0]?.payload.achievedLevel).toBe("APPLIED");
  });

  describe("with a map schema", () => {
    const todos = new SchemaSet(1, [{ map: "todos", version: 1, schema: { type: "object", properties: { title: { type: "string" } }, required: ["title"] } }]);
    const put = (id: string, key: string, value: unknown): ClientOp => ({ id, mapName: "todos", key, opType: "PUT", record: { value, timestamp: { millis: NOW, counter: 0, nodeId: "c" } } });

    it("refuses a write that breaks the schema with its path and rule, and applies the rest", async () => {
      const { coordinator, calls, sent, replies } = setup({ schemas: () => todos });
      await coordinator.write("c1", [put("1", "a", { title: 5 }), put("2", "b", { title: "ok" })], {}, replies);
      expect(calls.flatMap((c) => c.ops.map((o) => o.key))).toEqual(["b"]);
      expect(sent[0]).toEqual({
        type: "OP_REJECTED",
        payload: { opId: "1", code: 422, reason: 'value does not conform to the schema of map todos at /title: rule #/properties/title/type (type): Instance type "number" is invalid. Expected "string".' },
      });
      expect(sent[1]).toEqual({ type: "OP_ACK", payload: { lastId: "2" } });
    });

    it("checks OR-Map adds and lets removals through", async () => {
      const { coordinator, calls, sent, replies } = setup({ schemas: () => todos });
      const ts = { millis: NOW, counter: 0, nodeId: "c" };
      await coordinator.write("c1", [
        { id: "1", mapName: "todos", key: "k", opType: "OR_ADD", orRecord: { value: "not an object", timestamp: ts, tag: "t1" } },
        { id: "2", mapName: "todos", key: "k", opType: "OR_REMOVE", orTag: "t0" },
        { id: "3", mapName: "todos", key: "k", opType: "REMOVE", record: { value: null, timestamp: ts } },
      ], {}, replies);
      expect(sent[0]).toMatchObject({ type: "OP_REJECTED", payload: { opId: "1", code: 422 } });
      expect(calls.flatMap((c) => c.ops.map((o) => o.type))).toEqual(["OR_REMOVE", "REMOVE"]);
    });

    it("applies nothing and sends no OP_ACK while no copy of the schemas can be read", async () => {
      const { coordinator, calls, sent, replies } = setup({ schemas: () => Promise.reject(new Error("control object away")) });
      await coordinator.write("c1", [put("1", "a", { title: "ok" })], { writeConcern: "MEMORY" }, replies);
      expect(calls).toEqual([]);
      expect(sent).toEqual([{ type: "ERROR", payload: { code: 503, message: "map schemas unavailable; resend" } }]);
    });
  });
});

describe("WriteCoordinator after a reshard", () => {
  it("places a batch again with a fresh copy of the shard counts when an owner refuses a stale placement", async () => {
    let shards = parseShardConfig("");
    const fresh = parseShardConfig("hot:16");
    const calls: number[] = [];
    const owner = (partition: number): WriteOwner => ({
      apply: async ({ ops }) => {
        calls.push(partition);
        // Owners know the new count: a key placed by the old one is refused with the whole request.
        if (ops.some((o) => partitionOf(fresh, o.map, o.key) !== partition)) throw new Error(stalePlacementMessage("hot"));
        return ops.map((o) => ({ index: o.index, ok: true as const }));
      },
      applyBatches: async () => [],
      process: async () => ({}),
    });
    const coordinator = new WriteCoordinator({
      owners: owner,
      shards: () => shards,
      refreshShards: async () => void (shards = fresh),
      hlc: new HLC("edge-p0", { clock: () => NOW }),
      home: 0,
    });
    const sent: { type: string }[] = [];
    const ops = Array.from({ length: 20 }, (_, i) => op(String(i), "hot", `k${i}`));
    await coordinator.write("c1", ops, {}, { send: (m) => void sent.push(m as { type: string }) });
    expect(sent).toEqual([{ type: "OP_ACK", payload: { lastId: "19" } }]);
    expect(calls[0]).toBe(partitionOf(parseShardConfig(""), "hot", "k0"));
    expect(new Set(calls.slice(1))).toEqual(new Set(ops.map((o) => partitionOf(fresh, "hot", o.key))));
  });

  it("gives up with a resend error when the owners keep refusing", async () => {
    const owner = (): WriteOwner => ({
      apply: async () => {
        throw new Error(stalePlacementMessage("hot"));
      },
      applyBatches: async () => [],
      process: async () => ({}),
    });
    let refreshes = 0;
    const coordinator = new WriteCoordinator({
      owners: owner,
      shards: () => parseShardConfig(""),
      refreshShards: async () => void refreshes++,
      hlc: new HLC("edge-p0", { clock: () => NOW }),
      home: 0,
    });
    const sent: { type: string }[] = [];
    await coordinator.write("c1", [op("1", "hot", "a")], {}, { send: (m) => void sent.push(m as { type: string }) });
    expect(sent.map((m) => m.type)).toEqual(["ERROR"]);
    expect(refreshes).toBe(2);
  });
});
