// QUERY_SUB as TopGun main's clients send it (PROTOCOL-NEXT.md §4), over the raw protocol against the local server:
// sort arrays, projection, _key, grouped queries (one-shot and live, plain and sharded maps) and live top-N windows.
import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import type { Query } from "../../core/protocol/shared.ts";
import { SHARDED_MAP } from "../support/e2e-config.ts";
import { clientPool, uniqueName } from "../support/e2e-context.ts";
import { lwwPut, lwwRemove, type MessageOf, type TestClient } from "../support/ws-client.ts";

const clients = clientPool();
const hlc = new HLC("querier-next");

async function subscribe(
  client: TestClient,
  map: string,
  query: Query,
  options: { queryId?: string; fields?: string[] } = {},
): Promise<MessageOf<"QUERY_RESP">> {
  const queryId = options.queryId ?? uniqueName("q");
  client.send({ type: "QUERY_SUB", payload: { queryId, mapName: map, query, ...(options.fields ? { fields: options.fields } : {}) } });
  return client.waitFor("QUERY_RESP", { description: `QUERY_RESP ${queryId}`, where: (m) => m.payload.queryId === queryId });
}

async function putAll(client: TestClient, map: string, records: Record<string, unknown>): Promise<void> {
  await client.write(Object.entries(records).map(([key, value]) => lwwPut(map, key, value, hlc.now())));
}

const keysOf = (resp: MessageOf<"QUERY_RESP">) => resp.payload.results.map((r) => r.key);

/** The QUERY_UPDATEs of one query received so far, as [changeType, key, value]. */
function updatesOf(client: TestClient, queryId: string): [string, string, unknown][] {
  return client.history.flatMap((frame): [string, string, unknown][] => {
    const message = frame.message;
    if (message?.type !== "QUERY_UPDATE" || message.payload.queryId !== queryId) return [];
    return [[message.payload.changeType, message.payload.key, message.payload.value]];
  });
}

function waitForUpdate(client: TestClient, queryId: string, key: string, changeType: "ENTER" | "UPDATE" | "LEAVE") {
  return client.waitFor("QUERY_UPDATE", {
    description: `QUERY_UPDATE ${changeType} ${queryId}/${key}`,
    where: (m) => m.payload.queryId === queryId && m.payload.key === key && m.payload.changeType === changeType,
  });
}

/** Replays updates on a result list, checking after each that it never holds more than `limit` rows. */
function replay(start: MessageOf<"QUERY_RESP">, updates: [string, string, unknown][], limit = Number.POSITIVE_INFINITY): Map<string, unknown> {
  const rows = new Map(start.payload.results.map((r) => [r.key, r.value]));
  for (const [changeType, key, value] of updates) {
    if (changeType === "LEAVE") rows.delete(key);
    else rows.set(key, value);
    expect(rows.size).toBeLessThanOrEqual(limit);
  }
  return rows;
}

describe("queries of TopGun main", () => {
  it("answers a sort given as an ordered [{field, direction}] array, with the real record keys", async () => {
    const map = uniqueName("sortarr");
    const client = await clients.authed({ map });
    await putAll(client, map, { a: { team: "red", score: 2 }, b: { team: "blue", score: 5 }, c: { team: "red", score: 9 }, d: { score: 7 } });

    const resp = await subscribe(client, map, { sort: [{ field: "team", direction: "asc" }, { field: "score", direction: "desc" }] });

    expect(keysOf(resp)).toEqual(["b", "c", "a", "d"]);
    expect(resp.payload.results[0]).toEqual({ key: "b", value: { team: "blue", score: 5 } });
    expect(resp.payload).not.toHaveProperty("merkleRootHash");
  });

  it("fetches records by key with in on _key and sorts by _key", async () => {
    const map = uniqueName("bykey");
    const client = await clients.authed({ map });
    await putAll(client, map, { k1: { n: 1 }, k2: { n: 2 }, k3: { n: 3 } });

    const resp = await subscribe(client, map, {
      predicate: { op: "in", attribute: "_key", value: ["k1", "k3", "nope"] },
      sort: [{ field: "_key", direction: "desc" }],
    });

    expect(resp.payload.results).toEqual([{ key: "k3", value: { n: 3 } }, { key: "k1", value: { n: 1 } }]);
  });

  it("projects results and live updates to fields, filtering and sorting on the full record", async () => {
    const map = uniqueName("proj");
    const client = await clients.authed({ map });
    await putAll(client, map, { a: { title: "A", rank: 2, secret: "x" }, b: { title: "B", rank: 1, secret: "y" } });
    const queryId = uniqueName("q");

    const resp = await subscribe(client, map, { predicate: { op: "isNotNull", attribute: "secret" }, sort: [{ field: "rank", direction: "asc" }] }, { queryId, fields: ["title"] });
    await putAll(client, map, { c: { title: "C", rank: 0, secret: "z" } });
    const update = await waitForUpdate(client, queryId, "c", "ENTER");

    expect(resp.payload.results).toEqual([{ key: "b", value: { title: "B" } }, { key: "a", value: { title: "A" } }]);
    expect(update.payload.value).toEqual({ title: "C" });
  });

  it("accepts QUERY_SYNC_INIT without an answer", async () => {
    const map = uniqueName("qsync");
    const client = await clients.authed({ map });
    client.send({ type: "QUERY_SYNC_INIT", payload: { queryId: "q", rootHash: 1 } });
    await client.barrier();
    expect(client.history.map((f) => f.type)).not.toContain("ERROR");
  });

  it("answers one row per group with the requested aggregates, on a plain map", async () => {
    const map = uniqueName("groups");
    const client = await clients.authed({ map });
    await putAll(client, map, { o1: { status: "open", amount: 10 }, o2: { status: "open", amount: 20 }, o3: { status: "open", amount: 12 }, o4: { status: "done", amount: 5 } });

    const resp = await subscribe(client, map, {
      groupBy: ["status"],
      aggregations: [{ func: "sum", field: "amount" }, { func: "max", field: "amount" }],
      sort: [{ field: "__count", direction: "desc" }],
    });

    expect(resp.payload.results.map((r) => r.value)).toEqual([
      { status: "open", __count: 3, __sum_amount: 42, __max_amount: 20 },
      { status: "done", __count: 1, __sum_amount: 5, __max_amount: 5 },
    ]);
  });

  it("merges a sharded map's partial aggregates at the home, and keeps group rows live while two clients write", async () => {
    const run = uniqueName("run");
    const reader = await clients.authed({ clientId: uniqueName("reader") });
    const writers = [await clients.authed({ clientId: uniqueName("w1") }), await clients.authed({ clientId: uniqueName("w2") })];
    await putAll(writers[0]!, SHARDED_MAP, Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`${run}-${i}`, { run, team: i % 2 === 0 ? "even" : "odd", v: i }])));
    const query: Query = { predicate: { op: "eq", attribute: "run", value: run }, groupBy: ["team"], aggregations: [{ func: "sum", field: "v" }, { func: "avg", field: "v" }] };
    const queryId = uniqueName("q");

    const start = await subscribe(reader, SHARDED_MAP, query, { queryId });
    expect(Object.fromEntries(start.payload.results.map((r) => [(r.value as { team: string }).team, r.value]))).toEqual({
      even: { team: "even", __count: 6, __sum_v: 30, __avg_v: 5 },
      odd: { team: "odd", __count: 6, __sum_v: 36, __avg_v: 6 },
    });

    await Promise.all(
      writers.map((writer, w) =>
        Promise.all(
          Array.from({ length: 5 }, (_, i) =>
            putAll(writer, SHARDED_MAP, { [`${run}-new-${w}-${i}`]: { run, team: w === 0 ? "even" : "third", v: 100 } }),
          ),
        ),
      ),
    );
    await writers[0]!.write([lwwRemove(SHARDED_MAP, `${run}-1`, hlc.now())]);
    // Owners deliver QUERY_UPDATEs before the writers' OP_ACKs, so the fresh QUERY_RESP comes after all of them.
    const fresh = await subscribe(reader, SHARDED_MAP, query);
    const live = replay(start, updatesOf(reader, queryId));

    expect(new Map(fresh.payload.results.map((r) => [r.key, r.value]))).toEqual(live);
    expect([...live.values()]).toContainEqual({ team: "third", __count: 5, __sum_v: 500, __avg_v: 100 });
  });

  it("sends LEAVE for the displaced row then ENTER for the newcomer, and nothing for a row outside the window", async () => {
    const map = uniqueName("topn");
    const client = await clients.authed({ map });
    await putAll(client, map, { p: { score: 1 }, q: { score: 4 }, r: { score: 7 } });
    const queryId = uniqueName("q");
    await subscribe(client, map, { sort: [{ field: "score", direction: "asc" }], limit: 3 }, { queryId });

    await putAll(client, map, { z: { score: 100 } });
    await putAll(client, map, { s: { score: 2 } });
    await waitForUpdate(client, queryId, "s", "ENTER");

    expect(updatesOf(client, queryId)).toEqual([
      ["LEAVE", "r", null],
      ["ENTER", "s", { score: 2 }],
    ]);
  });

  it("refills a freed slot with the best row outside the window", async () => {
    const map = uniqueName("refill");
    const client = await clients.authed({ map });
    await putAll(client, map, { p: { score: 1 }, q: { score: 4 }, r: { score: 7 }, t: { score: 9 } });
    const queryId = uniqueName("q");
    await subscribe(client, map, { sort: [{ field: "score", direction: "asc" }], limit: 3 }, { queryId });

    await client.write([lwwRemove(map, "q", hlc.now())]);
    await waitForUpdate(client, queryId, "t", "ENTER");

    expect(updatesOf(client, queryId)).toEqual([
      ["LEAVE", "q", null],
      ["ENTER", "t", { score: 9 }],
    ]);
  });

  it("keeps a top-N window over a sharded map within its limit and equal to a fresh answer while two clients write", async () => {
    const run = uniqueName("top");
    const reader = await clients.authed({ clientId: uniqueName("reader") });
    const writers = [await clients.authed({ clientId: uniqueName("w1") }), await clients.authed({ clientId: uniqueName("w2") })];
    await putAll(writers[0]!, SHARDED_MAP, Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`${run}-${i}`, { run, score: i * 10 }])));
    const query: Query = { predicate: { op: "eq", attribute: "run", value: run }, sort: [{ field: "score", direction: "desc" }], limit: 4 };
    const queryId = uniqueName("q");
    const start = await subscribe(reader, SHARDED_MAP, query, { queryId });
    expect(keysOf(start)).toEqual([`${run}-9`, `${run}-8`, `${run}-7`, `${run}-6`]);

    await Promise.all(
      writers.map((writer, w) =>
        (async () => {
          for (let i = 0; i < 8; i++) {
            const key = `${run}-${w}-${i}`;
            await putAll(writer, SHARDED_MAP, { [key]: { run, score: (i * 37 + w * 11) % 120 } });
          }
        })(),
      ),
    );
    await writers[1]!.write([lwwRemove(SHARDED_MAP, `${run}-9`, hlc.now())]);
    await writers[0]!.write([lwwPut(SHARDED_MAP, `${run}-8`, { run, score: -1 }, hlc.now())]);
    const fresh = await subscribe(reader, SHARDED_MAP, query);
    const live = replay(start, updatesOf(reader, queryId), 4);

    expect([...live.keys()].sort()).toEqual(keysOf(fresh).sort());
  });
});
