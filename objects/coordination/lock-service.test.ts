import { describe, expect, it } from "vitest";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { recordingSender } from "../../test/support/recording-sender.ts";
import { LockService, lockTtlMs } from "./lock-service.ts";
import { applySchema } from "../storage/schema.ts";

const alice = { home: 3, conn: "alice" };
const bob = { home: 5, conn: "bob" };
const carol = { home: 5, conn: "carol" };

function setup() {
  const sql = nodeSqlPort();
  applySchema(sql);
  const { sender, sent, gone } = recordingSender();
  const clock = { now: 10_000 };
  const alarms: number[] = [];
  const locks = new LockService({
    sql,
    sender,
    clock: () => clock.now,
    wakeAt: async (at) => {
      alarms.push(at);
    },
  });
  const request = (holder: typeof alice, requestId: string, ttlMs = 5_000, name = "L") => locks.request({ requestId, name, ttlMs, holder });
  const grants = () => sent.filter((s) => s.message.type === "LOCK_GRANTED").map((s) => ({ to: s.to.conn, ...s.message.payload }));
  return { locks, sql, clock, alarms, gone, request, grants };
}

describe("lockTtlMs", () => {
  it("defaults to 10 s and clamps to [1 s, 300 s]", () => {
    expect([lockTtlMs(undefined), lockTtlMs(5), lockTtlMs(2_500), lockTtlMs(1e9)]).toEqual([10_000, 1_000, 2_500, 300_000]);
  });
});

describe("LockService", () => {
  it("grants a free lock with fencing token 1", async () => {
    const { request } = setup();
    expect(await request(alice, "r1")).toEqual({ granted: true, fencingToken: 1 });
  });

  it("queues a request for a held lock without a grant", async () => {
    const { request, grants } = setup();
    await request(alice, "r1");
    expect(await request(bob, "r2")).toEqual({ granted: false });
    expect(grants()).toEqual([]);
  });

  it("extends the holder's own lock with the same token", async () => {
    const { request, sql, clock } = setup();
    await request(alice, "r1");
    clock.now += 3_000;
    expect(await request(alice, "r2", 5_000)).toEqual({ granted: true, fencingToken: 1 });
    expect(sql.exec("SELECT expires_at FROM lock_state")).toEqual([{ expires_at: 18_000 }]);
  });

  it("passes a released lock to queued requests in FIFO order with increasing tokens", async () => {
    const { locks, request, grants } = setup();
    await request(alice, "r1");
    await request(bob, "r2");
    await request(carol, "r3");

    expect(await locks.release({ name: "L", fencingToken: 1, holder: alice })).toBe(true);
    expect(await locks.release({ name: "L", fencingToken: 2, holder: bob })).toBe(true);

    expect(grants()).toEqual([
      { to: "bob", requestId: "r2", name: "L", fencingToken: 2 },
      { to: "carol", requestId: "r3", name: "L", fencingToken: 3 },
    ]);
  });

  it("refuses a release with the wrong token or by a connection that does not hold the lock", async () => {
    const { locks, request, grants } = setup();
    await request(alice, "r1");
    await request(bob, "r2");

    expect(await locks.release({ name: "L", fencingToken: 7, holder: alice })).toBe(false);
    expect(await locks.release({ name: "L", fencingToken: 1, holder: bob })).toBe(false);
    expect(grants()).toEqual([]);
  });

  it("keeps increasing the fencing token after the lock was free", async () => {
    const { locks, request } = setup();
    await request(alice, "r1");
    await locks.release({ name: "L", fencingToken: 1, holder: alice });
    expect(await request(bob, "r2")).toEqual({ granted: true, fencingToken: 2 });
  });

  it("grants an expired lock to a new request with the next token", async () => {
    const { request, clock } = setup();
    await request(alice, "r1", 1_000);
    clock.now += 1_000;
    expect(await request(bob, "r2")).toEqual({ granted: true, fencingToken: 2 });
  });

  it("asks for the alarm at the earliest expiry", async () => {
    const { request, alarms } = setup();
    await request(alice, "r1", 5_000, "A");
    await request(bob, "r2", 2_000, "B");
    expect(alarms.at(-1)).toBe(12_000);
  });

  it("passes expired locks to the next waiter when the alarm fires", async () => {
    const { locks, request, grants, clock } = setup();
    await request(alice, "r1", 1_000);
    await request(bob, "r2", 4_000);

    clock.now += 1_000;
    await locks.alarm();

    expect(grants()).toEqual([{ to: "bob", requestId: "r2", name: "L", fencingToken: 2 }]);
  });

  it("does nothing when the alarm fires before any lock expired", async () => {
    const { locks, request, grants, sql } = setup();
    await request(alice, "r1");
    await request(bob, "r2");
    await locks.alarm();
    expect(grants()).toEqual([]);
    expect(sql.exec("SELECT conn, token FROM lock_state")).toEqual([{ conn: "alice", token: 1 }]);
  });

  it("releases a closed connection's locks to the next waiter and drops its queued requests", async () => {
    const { locks, request, grants } = setup();
    await request(alice, "r1", 5_000, "A");
    await request(bob, "r2", 5_000, "A");
    await request(bob, "r3", 5_000, "B");
    await request(carol, "r4", 5_000, "B");
    await request(alice, "r5", 5_000, "B");

    await locks.dropConnection(alice);

    expect(grants()).toEqual([{ to: "bob", requestId: "r2", name: "A", fencingToken: 2 }]);
    await locks.release({ name: "B", fencingToken: 1, holder: bob });
    expect(grants().at(-1)).toEqual({ to: "carol", requestId: "r4", name: "B", fencingToken: 2 });
  });

  it("skips a waiter whose home no longer knows it", async () => {
    const { locks, request, grants, gone } = setup();
    await request(alice, "r1");
    await request(bob, "r2");
    await request(carol, "r3");
    gone.add("5/bob");

    await locks.release({ name: "L", fencingToken: 1, holder: alice });

    expect(grants()).toEqual([{ to: "carol", requestId: "r3", name: "L", fencingToken: 3 }]);
  });
});
