import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeMessage } from "../../core/codec.ts";
import { HLC, type Timestamp } from "../../core/hlc.ts";
import { MAX_VALUE_BYTES } from "../../core/limits.ts";
import { LWWMap } from "../../core/lww-map.ts";
import { clientPool, uniqueName } from "../support/e2e-context.ts";
import { clientSync } from "../support/merkle-sync-client.ts";
import { lwwPut, nextOpId, type TestClient } from "../support/ws-client.ts";

const clients = clientPool();

/**
 * An authenticated client on a fresh map that already holds one record; `check()` proves the socket still
 * completes a write with its ack and that the earlier record is unchanged.
 */
async function arrange() {
  const map = uniqueName("bad");
  const client = await clients.authed({ map });
  const hlc = new HLC("writera");
  const before: Timestamp = hlc.now();
  await client.write([lwwPut(map, "before", { kept: true }, before)]);
  return {
    map,
    client,
    async check(): Promise<void> {
      const after = hlc.now();
      const ack = await client.write([lwwPut(map, "after", "ok", after)]);
      expect(ack.payload.lastId).toBeTruthy();
      const synced = await clientSync(client, map, new LWWMap(new HLC("reader")));
      expect(new Map(synced.records.map((r) => [r.key, r.record]))).toEqual(
        new Map<string, unknown>([
          ["before", { value: { kept: true }, timestamp: before }],
          ["after", { value: "ok", timestamp: after }],
        ]),
      );
    },
  };
}

async function expectError(client: TestClient): Promise<number> {
  const error = await client.waitFor("ERROR");
  expect(error.payload.message).toBeTruthy();
  expect(error.payload.code).toBeGreaterThanOrEqual(400);
  expect(error.payload.code).toBeLessThan(500);
  return error.payload.code;
}

describe("bad input after authentication", () => {
  it("answers an undecodable frame with ERROR and keeps the socket and data intact", async () => {
    const { client, check } = await arrange();
    // 0xc1 is never valid msgpack; random bytes follow.
    client.sendRaw(new Uint8Array([0xc1, ...randomBytes(64)]));
    await expectError(client);
    await check();
  });

  it("answers a text frame with ERROR and keeps the socket and data intact", async () => {
    const { client, check } = await arrange();
    client.sendRaw(JSON.stringify({ type: "PING", timestamp: 1 }));
    await expectError(client);
    await check();
  });

  it("answers an unknown message type with ERROR and keeps the socket and data intact", async () => {
    const { client, check } = await arrange();
    client.send({ type: "NO_SUCH_TYPE", payload: {} });
    await expectError(client);
    await check();
  });

  it("answers a CLIENT_OP with a numeric key with ERROR and keeps the socket and data intact", async () => {
    const { map, client, check } = await arrange();
    client.send({
      type: "CLIENT_OP",
      payload: { id: nextOpId(), mapName: map, key: 42, opType: "PUT", record: { value: 1, timestamp: new HLC("w").now() } },
    });
    await expectError(client);
    await check();
  });

  it("answers a record with a negative or fractional ttlMs with ERROR and keeps the socket and data intact", async () => {
    const { map, client, check } = await arrange();
    for (const ttlMs of [-1, 1.5, "soon"]) {
      client.send({
        type: "CLIENT_OP",
        payload: { id: nextOpId(), mapName: map, key: "before", opType: "PUT", record: { value: "replaced", timestamp: new HLC("writerb").now(), ttlMs } },
      });
      await expectError(client);
    }
    await check();
  });

  it("answers a SYNC_INIT with a negative lastSyncTimestamp with ERROR and keeps the socket and data intact", async () => {
    const { map, client, check } = await arrange();
    client.send({ type: "SYNC_INIT", mapName: map, lastSyncTimestamp: -5 });
    await expectError(client);
    await check();
  });

  it("rejects a value over MAX_VALUE_BYTES with OP_REJECTED 413 and keeps the socket and data intact", async () => {
    const { map, client, check } = await arrange();
    const op = lwwPut(map, "huge", "x".repeat(MAX_VALUE_BYTES + 1024), new HLC("writera").now());
    expect(encodeMessage({ type: "CLIENT_OP", payload: op }).byteLength).toBeGreaterThan(MAX_VALUE_BYTES);

    client.sendOp(op);
    const rejected = await client.waitFor("OP_REJECTED");

    expect(rejected.payload).toMatchObject({ opId: op.id, code: 413 });
    await check();
  });
});
