import { describe, expect, it } from "vitest";
import { decodeMessage } from "../core/codec.ts";
import { HLC } from "../core/hlc.ts";
import { nodeSqlPort } from "../test/support/node-sql-port.ts";
import { EventFanout } from "./delivery/event-fanout.ts";
import type { ConnectionFrames } from "./delivery/home-deliveries.ts";
import { InterestRegistry } from "./delivery/interest-registry.ts";
import { JournalService } from "./journal/journal-service.ts";
import { OwnerService } from "./owner-service.ts";
import { QueryService } from "./queries/query-service.ts";
import { applySchema } from "./storage/schema.ts";
import { CrdtWriter } from "./writes/crdt-writer.ts";
import { LwwStore } from "./writes/lww-store.ts";
import { MerkleStore } from "./writes/merkle-store.ts";
import { OrStore } from "./writes/or-store.ts";

const writer = { home: 1, conn: "writer" };
const bob = { home: 3, conn: "bob" };
const carol = { home: 3, conn: "carol" };

/** An owner whose deliveries to homes are recorded, call by call; `unknown` conns are answered as gone. */
function setup(unknown: string[] = [], withJournal = false) {
  const sql = nodeSqlPort();
  applySchema(sql);
  const merkle = new MerkleStore(sql);
  const lww = new LwwStore(sql, merkle);
  const or = new OrStore(sql, merkle);
  const hlc = new HLC("edge-p5", { clock: () => 1_000 });
  const calls: { home: number; deliveries: { conn: string; types: string[] }[] }[] = [];
  const deliverEach = async (home: number, deliveries: ConnectionFrames[]) => {
    calls.push({
      home,
      deliveries: deliveries.map(({ conn, frames }) => ({ conn, types: frames.map((f) => (decodeMessage(f) as { type: string }).type) })),
    });
    return deliveries.map((d) => d.conn).filter((conn) => unknown.includes(conn));
  };
  const interest = new InterestRegistry(sql);
  const journal = withJournal ? new JournalService({ sql, partition: 5, deliver: deliverEach, clock: () => 1_000 }) : undefined;
  const queries = new QueryService({ sql, lww, interest, deliver: deliverEach });
  const owner = new OwnerService({
    sql, lww, or, merkle, interest, hlc, queries, ...(journal ? { journal } : {}),
    fanout: new EventFanout(interest, deliverEach),
    deliver: deliverEach,
    writer: new CrdtWriter({ sql, lww, or, merkle, hlc, ...(journal ? { journal } : {}) }),
  });
  const put = (key: string, value: unknown, millis: number) =>
    owner.apply({ ops: [{ index: 0, type: "PUT", map: "m", key, record: { value, timestamp: { millis, counter: 0, nodeId: "w" } } }], writer });
  return { owner, interest, calls, put };
}

describe("OwnerService: what a write sends to the homes of other connections", () => {
  it("sends a home one call per write holding each connection's QUERY_UPDATE before its SERVER_EVENT", async () => {
    const { owner, interest, calls, put } = setup();
    for (const subscriber of [bob, carol]) {
      interest.register("m", "lww-sync", subscriber.home, subscriber.conn);
      await owner.querySubscribe({ map: "m", queryId: "q", query: {}, subscriber });
    }
    calls.length = 0;
    await put("a", { n: 1 }, 2_000);
    expect(calls).toEqual([
      { home: 3, deliveries: [{ conn: "bob", types: ["QUERY_UPDATE", "SERVER_EVENT"] }, { conn: "carol", types: ["QUERY_UPDATE", "SERVER_EVENT"] }] },
    ]);
  });

  it("adds the write's JOURNAL_EVENT to the same call, after the SERVER_EVENT", async () => {
    const { owner, interest, calls, put } = setup([], true);
    interest.register("m", "lww-sync", bob.home, bob.conn);
    await owner.journalSubscribe({ subscriptionId: "j", filter: { map: "m" }, subscriber: bob });
    calls.length = 0;
    await put("a", 1, 2_000);
    expect(calls).toEqual([{ home: 3, deliveries: [{ conn: "bob", types: ["SERVER_EVENT", "JOURNAL_EVENT"] }] }]);
  });

  it("forgets a connection its home no longer knows, for queries and events alike", async () => {
    const { owner, interest, calls, put } = setup(["bob"]);
    interest.register("m", "lww-sync", bob.home, bob.conn);
    await owner.querySubscribe({ map: "m", queryId: "q", query: {}, subscriber: bob });
    await put("a", 1, 2_000);
    calls.length = 0;
    await put("b", 2, 3_000);
    expect(calls).toEqual([]);
  });
});
