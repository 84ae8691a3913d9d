import { describe, expect, it } from "vitest";
import { encodeMessage } from "../../core/codec.ts";
import { MAX_BATCH_ITEMS } from "../../core/limits.ts";
import { inboundBatch } from "../../test/support/inbound-batch.ts";
import { connectAs } from "../../test/workerd/connect.ts";

const cheap = encodeMessage({ type: "PARTITION_MAP_REQUEST" });

describe("connection limits in the Partition", () => {
  it("answers a frame nested 300 levels deep with ERROR 400 and still answers PING", async () => {
    const socket = await connectAs("clientId=limits-deep", "limits-deep");
    socket.sendRaw(new Uint8Array(301).fill(0x91, 0, 300));
    expect((await socket.waitFor("ERROR")).payload).toEqual({ code: 400, message: "frame nests deeper than 256 levels" });
    socket.send({ type: "PING", timestamp: 7 });
    expect(await socket.waitFor("PONG")).toMatchObject({ timestamp: 7 });
    socket.close();
  });

  it("drops a BATCH of 8,193 items with ERROR 413", async () => {
    const socket = await connectAs("clientId=limits-wide", "limits-wide");
    socket.send(inboundBatch(new Array<Uint8Array>(MAX_BATCH_ITEMS + 1).fill(cheap)));
    expect((await socket.waitFor("ERROR")).payload).toEqual({ code: 413, message: "batch exceeds maximum inner item count" });
    socket.close();
  });

  it("answers 429 once a connection's frames cost more than the burst", async () => {
    const socket = await connectAs("clientId=limits-burst", "limits-burst");
    for (let i = 0; i < 12; i++) socket.send(inboundBatch(new Array<Uint8Array>(MAX_BATCH_ITEMS).fill(cheap))); // 98,304 ops
    expect((await socket.waitFor("ERROR")).payload).toEqual({ code: 429, message: "rate limit exceeded, slow down" });
    socket.close();
  });
});
