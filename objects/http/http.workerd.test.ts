import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { parseShardConfig, partitionOfName, partitionOfShard, partitionsOfMap } from "../../core/placement.ts";
import type { Principal } from "../../core/principal.ts";
import { partitionStub } from "../../test/workerd/connect.ts";
import type { Partition } from "../partition.ts";

const bob: Principal = { id: "bob", roles: [], claims: { sub: "bob" } };
const clock = (millis: number) => ({ millis, counter: 0, nodeId: "http-workerd" });

/** Rows of `table` in a partition's SQLite. */
async function rowsOf(partition: number, table: string): Promise<number> {
  return runInDurableObject(partitionStub(partition), (_instance: Partition, state) => Number(state.storage.sql.exec(`SELECT COUNT(*) AS n FROM ${table}`).one().n));
}

describe("the HTTP gateway", () => {
  it("leaves no query subscription, interest or counter subscription behind at the home or at any owner", async () => {
    const map = "sharded-w";
    const owners = partitionsOfMap(parseShardConfig("sharded-w:8"), map);
    const home = partitionOfName("http-workerd-client");
    expect(owners).not.toContain(home);
    // The RPC's declared type of an `unknown`-valued answer is `never`: read it as unknown.
    const response: unknown = await partitionStub(home).httpSync({
      principal: bob,
      body: {
        clientId: "http-workerd-client",
        clientHlc: clock(Date.now()),
        operations: [{ id: "1", mapName: map, key: "a", opType: "PUT", record: { value: { n: 1 }, timestamp: clock(Date.now()) } }],
        queries: [{ queryId: "q", mapName: map }],
        searches: [{ searchId: "s", mapName: map, query: "n" }],
      },
    });
    expect(response).toMatchObject({ queryResults: [{ queryId: "q", results: [{ n: 1 }] }] });
    const listed = await partitionStub(home).httpCall({ principal: bob, call: { kind: "list", map, query: {} } });
    expect(listed).toMatchObject({ ok: true, status: 200 });
    const counter = await partitionStub(home).httpCall({ principal: bob, call: { kind: "counterAdd", name: "http-visits", delta: 1 } });
    expect(counter).toMatchObject({ ok: true, body: { value: 1 } });

    for (const owner of owners) {
      expect(await rowsOf(owner, "query_sub")).toBe(0);
      expect(await rowsOf(owner, "interest")).toBe(0);
    }
    expect(await rowsOf(home, "conn_query")).toBe(0);
    expect(await rowsOf(home, "conn_coordination")).toBe(0);
    expect(await rowsOf(partitionOfName("http-visits"), "counter_sub")).toBe(0);
  });

  it("runs a /v1 write through the write path at the map's owner, stamped by the home", async () => {
    const map = "http-workerd-map";
    const home = partitionOfShard(map, 0);
    const put = await partitionStub(home).httpCall({ principal: bob, call: { kind: "put", map, key: "k", value: { v: 1 } } });
    expect(put).toMatchObject({ ok: true, status: 200, body: { key: "k", value: { v: 1 }, timestamp: { nodeId: `edge-p${home}` } } });
    const read = await partitionStub(home).httpCall({ principal: bob, call: { kind: "get", map, key: "k" } });
    expect(read).toMatchObject({ ok: true, body: { key: "k", value: { v: 1 } } });
  });
});
