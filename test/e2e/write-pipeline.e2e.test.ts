import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { partitionOf, partitionOfShard, parseShardConfig } from "../../core/placement.ts";
import { SHARDED_MAP, SHARDED_MAP_SHARDS } from "../support/e2e-config.ts";
import { clientPool, uniqueName } from "../support/e2e-context.ts";
import { lwwPut, nextOpId } from "../support/ws-client.ts";

const clients = clientPool();
const hlc = new HLC("pipeline-writer");

/** `count` batches of `size` PUTs each into `map`, keys `${run}-${batch}-${i}`, every op with an id. */
function batches(map: string, run: string, count: number, size: number) {
  return Array.from({ length: count }, (_, b) =>
    Array.from({ length: size }, (_, i) => lwwPut(map, `${run}-${b}-${i}`, { run, b, i }, hlc.now(), { id: nextOpId(`${run}-${b}`) })),
  );
}

describe("pipelined writes on one connection", () => {
  it("answers batches sent without waiting in the order they were sent, though a later one finishes first", async () => {
    // One op per batch, alternating between a key of a remote owner and a key the connection's home owns itself
    // (applied at once, without an RPC): each home-owned batch is applied before the remote batch sent before it.
    const shards = parseShardConfig(`${SHARDED_MAP}:${SHARDED_MAP_SHARDS}`);
    const home = partitionOfShard(SHARDED_MAP, 0);
    const run = uniqueName("order");
    const keys = Array.from({ length: 400 }, (_, i) => `${run}-${i}`);
    const local = keys.filter((key) => partitionOf(shards, SHARDED_MAP, key) === home);
    const remote = keys.filter((key) => partitionOf(shards, SHARDED_MAP, key) !== home);
    const sent = Array.from({ length: 30 }, (_, b) => {
      const key = (b % 2 === 0 ? remote : local)[b >> 1] ?? "";
      return [lwwPut(SHARDED_MAP, key, { b }, hlc.now(), { id: nextOpId(`${run}-${b}`) })];
    });
    const client = await clients.authed({ map: SHARDED_MAP });
    for (const ops of sent) client.sendBatch(ops);
    await client.waitFor("OP_ACK", { where: (m) => m.payload.lastId === sent.at(-1)?.at(-1)?.id, timeoutMs: 30_000 });

    const acked = client.collect("OP_ACK").map((m) => m.payload.lastId);
    expect(acked).toEqual(sent.map((ops) => ops.at(-1)?.id));
  });

  it("lets a query sent right after the batches see every one of their writes", async () => {
    const map = uniqueName("read-after");
    const client = await clients.authed({ map: SHARDED_MAP });
    const run = uniqueName("run");
    const sent = batches(map, run, 12, 50);
    for (const ops of sent) client.sendBatch(ops);
    client.send({ type: "QUERY_SUB", payload: { queryId: "all", mapName: map, query: {} } });

    const response = await client.waitFor("QUERY_RESP", { where: (m) => m.payload.queryId === "all", timeoutMs: 30_000 });
    expect(response.payload.results).toHaveLength(12 * 50);
    // And the answers to the batches came before the query's.
    const order = client.history.map((f) => f.type).filter((t) => t === "OP_ACK" || t === "QUERY_RESP");
    expect(order).toEqual([...Array(12).fill("OP_ACK"), "QUERY_RESP"]);
  });
});
