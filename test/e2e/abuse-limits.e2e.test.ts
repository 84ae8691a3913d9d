import { describe, expect, it } from "vitest";
import { encodeMessage } from "../../core/codec.ts";
import { HLC } from "../../core/hlc.ts";
import { LWWMap } from "../../core/lww-map.ts";
import { MAX_BATCH_ITEMS } from "../../core/limits.ts";
import type { ClientOp } from "../../core/protocol/shared.ts";
import { clientPool, uniqueName } from "../support/e2e-context.ts";
import { inboundBatch } from "../support/inbound-batch.ts";
import { clientSync } from "../support/merkle-sync-client.ts";
import { lwwPut, type TestClient } from "../support/ws-client.ts";

const clients = clientPool();

/** A CLIENT_OP frame whose value is `levels` nested arrays (the frame's own maps add 4 levels). */
function deepWrite(op: ClientOp, levels: number): Uint8Array {
  const prefix = new Uint8Array(levels).fill(0x91); // fixarray of one element, `levels` times, around a 0
  const marker = "__deep__";
  const frame = encodeMessage({ type: "CLIENT_OP", payload: { ...op, record: { ...op.record, value: marker } } });
  // Splice the raw nesting in place of the marker string (0xa8 + 8 bytes), so no encoder has to recurse.
  const markerBytes = encodeMessage(marker);
  const at = indexOf(frame, markerBytes);
  return new Uint8Array([...frame.subarray(0, at), ...prefix, 0x00, ...frame.subarray(at + markerBytes.length)]);
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error("marker not found");
}

async function storedKeys(client: TestClient, map: string): Promise<string[]> {
  const synced = await clientSync(client, map, new LWWMap(new HLC("reader")));
  return synced.records.map((r) => r.key).sort();
}

describe("nesting depth limit", () => {
  it("answers a frame nested deeper than 256 levels with ERROR, applies nothing and keeps the socket working", async () => {
    const map = uniqueName("deep");
    const client = await clients.authed({ map });
    const hlc = new HLC("writera");
    client.sendRaw(deepWrite(lwwPut(map, "deep", null, hlc.now()), 300));
    const error = await client.waitFor("ERROR");
    expect(error.payload).toEqual({ code: 400, message: "frame nests deeper than 256 levels" });
    await client.write([lwwPut(map, "after", "ok", hlc.now())]);
    expect(await storedKeys(client, map)).toEqual(["after"]);
  });

  it("skips a too-deep BATCH item with ERROR and applies the item after it", async () => {
    const map = uniqueName("deep-batch");
    const client = await clients.authed({ map });
    const hlc = new HLC("writera");
    const next = lwwPut(map, "next", "applied", hlc.now());
    client.send(inboundBatch([deepWrite(lwwPut(map, "deep", null, hlc.now()), 1_000), encodeMessage({ type: "CLIENT_OP", payload: next })]));
    expect((await client.waitFor("ERROR")).payload).toEqual({ code: 400, message: "frame nests deeper than 256 levels" });
    await client.waitFor("OP_ACK", { where: (m) => m.payload.lastId === next.id });
    expect(await storedKeys(client, map)).toEqual(["next"]);
  });
});

describe("BATCH item limit", () => {
  it("drops a BATCH of more than 8,192 items whole with ERROR 413", async () => {
    const map = uniqueName("wide-batch");
    const client = await clients.authed({ map });
    const hlc = new HLC("writera");
    const first = encodeMessage({ type: "CLIENT_OP", payload: lwwPut(map, "first", 1, hlc.now()) });
    const filler = encodeMessage({ type: "PARTITION_MAP_REQUEST" });
    client.send(inboundBatch([first, ...new Array<Uint8Array>(MAX_BATCH_ITEMS).fill(filler)]));
    expect((await client.waitFor("ERROR")).payload).toEqual({ code: 413, message: "batch exceeds maximum inner item count" });
    await client.barrier();
    expect(await storedKeys(client, map)).toEqual([]);
  });
});

describe("op budget", () => {
  it("answers a burst over 40,000 ops with 429, applies none of the refused frames, and accepts writes again after the refill", async () => {
    const map = uniqueName("burst");
    const client = await clients.authed({ map });
    const hlc = new HLC("writera");
    // Each frame: one write and 8,191 cheap no-reply items, 8,192 ops of budget; 14 of them are 114,688 ops, which
    // drain the bucket unless the server takes over a quarter of a second per frame (the refill pays 5,000 by then).
    const filler = new Array<Uint8Array>(MAX_BATCH_ITEMS - 1).fill(encodeMessage({ type: "PARTITION_MAP_REQUEST" }));
    const writes = Array.from({ length: 14 }, (_, i) => lwwPut(map, `k${i}`, i, hlc.now()));
    for (const op of writes) client.send(inboundBatch([encodeMessage({ type: "CLIENT_OP", payload: op }), ...filler]));

    // Frames are handled in order, and each answers with its write's OP_ACK or with one 429.
    const outcomes: string[] = [];
    for (let i = 0; i < writes.length; i++) {
      const answer = await client.waitFor((m) => m.type === "OP_ACK" || (m.type === "ERROR" && m.payload.code === 429), { timeoutMs: 20_000 });
      outcomes.push(answer.type === "OP_ACK" ? String(answer.payload.lastId) : "429");
    }
    const acked = outcomes.filter((o) => o !== "429");
    expect(outcomes.slice(0, 4)).toEqual(writes.slice(0, 4).map((op) => op.id)); // 32,768 ops fit the burst
    expect(outcomes).toContain("429");
    const appliedKeys = writes.filter((op) => acked.includes(String(op.id))).map((op) => op.key).sort();
    expect(await storedKeys(client, map)).toEqual(appliedKeys);

    // 20 ops refill per millisecond: a refused write goes through once the bucket holds its cost again.
    const later = lwwPut(map, "later", "ok", hlc.now());
    const answer = await writeUntilAccepted(client, later);
    expect(answer).toBe("OP_ACK");
    expect(await storedKeys(client, map)).toEqual([...appliedKeys, "later"].sort());
  });
});

/** Sends `op` in a BATCH costing 8,192 ops (410 ms of refill) until it is acknowledged rather than refused (at most ~3 s). */
async function writeUntilAccepted(client: TestClient, op: ClientOp): Promise<string> {
  const filler = new Array<Uint8Array>(MAX_BATCH_ITEMS - 1).fill(encodeMessage({ type: "PARTITION_MAP_REQUEST" }));
  const frame = inboundBatch([encodeMessage({ type: "CLIENT_OP", payload: op }), ...filler]);
  for (let attempt = 0; attempt < 30; attempt++) {
    client.send(frame);
    const answer = await client.waitFor((m) => (m.type === "OP_ACK" && m.payload.lastId === op.id) || (m.type === "ERROR" && m.payload.code === 429));
    if (answer.type === "OP_ACK") return "OP_ACK";
    // The refill is the server's clock at work; nothing on the wire announces it, so the client retries as told.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return "429";
}
