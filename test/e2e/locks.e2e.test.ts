import { describe, expect, it } from "vitest";
import { clientPool, uniqueName } from "../support/e2e-context.ts";
import type { TestClient } from "../support/ws-client.ts";

const clients = clientPool();

function requestLock(client: TestClient, name: string, requestId: string, ttl?: number): void {
  client.send({ type: "LOCK_REQUEST", payload: { requestId, name, ...(ttl === undefined ? {} : { ttl }) } });
}

function granted(client: TestClient, requestId: string, timeoutMs?: number) {
  return client.waitFor("LOCK_GRANTED", { description: `LOCK_GRANTED ${requestId}`, where: (m) => m.payload.requestId === requestId, timeoutMs });
}

async function release(client: TestClient, name: string, requestId: string, fencingToken: number) {
  client.send({ type: "LOCK_RELEASE", payload: { requestId, name, fencingToken } });
  return client.waitFor("LOCK_RELEASED", { where: (m) => m.payload.requestId === requestId });
}

describe("locks", () => {
  it("grants a free lock and makes a second client wait until it is released", async () => {
    const name = uniqueName("lock");
    const a = await clients.authed({ clientId: uniqueName("client") });
    const b = await clients.authed({ clientId: uniqueName("client") });

    requestLock(a, name, "a1");
    const first = await granted(a, "a1");
    requestLock(b, name, "b1");
    await b.barrier();
    expect(b.collect("LOCK_GRANTED")).toEqual([]);

    const released = await release(a, name, "a2", first.payload.fencingToken);
    expect(released.payload).toEqual({ requestId: "a2", name, success: true });
    const second = await granted(b, "b1");
    expect(second.payload.fencingToken).toBeGreaterThan(first.payload.fencingToken);
  });

  it("grants queued requests in FIFO order with increasing fencing tokens", async () => {
    const name = uniqueName("fifo");
    const holder = await clients.authed({ clientId: uniqueName("client") });
    const waiters = [
      await clients.authed({ clientId: uniqueName("client") }),
      await clients.authed({ clientId: uniqueName("client") }),
      await clients.authed({ clientId: uniqueName("client") }),
    ];
    requestLock(holder, name, "h");
    let token = (await granted(holder, "h")).payload.fencingToken;
    for (const [i, waiter] of waiters.entries()) {
      requestLock(waiter, name, `w${i}`);
      await waiter.barrier();
    }

    let current = holder;
    let currentId = "h";
    for (const [i, waiter] of waiters.entries()) {
      await release(current, name, `${currentId}-release`, token);
      const grant = await granted(waiter, `w${i}`);
      expect(grant.payload.fencingToken).toBe(token + 1);
      for (const later of waiters.slice(i + 1)) {
        await later.barrier();
        expect(later.collect("LOCK_GRANTED")).toEqual([]);
      }
      token = grant.payload.fencingToken;
      current = waiter;
      currentId = `w${i}`;
    }
  });

  it("keeps fencing tokens increasing after the lock was released and free", async () => {
    const name = uniqueName("token");
    const client = await clients.authed({ clientId: uniqueName("client") });
    requestLock(client, name, "r1");
    const first = await granted(client, "r1");
    await release(client, name, "x1", first.payload.fencingToken);

    requestLock(client, name, "r2");
    const second = await granted(client, "r2");

    expect(second.payload.fencingToken).toBe(first.payload.fencingToken + 1);
  });

  it("answers LOCK_RELEASED success false for a wrong fencing token", async () => {
    const name = uniqueName("wrong");
    const client = await clients.authed({ clientId: uniqueName("client") });
    requestLock(client, name, "r1");
    const grant = await granted(client, "r1");

    const released = await release(client, name, "x1", grant.payload.fencingToken + 5);

    expect(released.payload.success).toBe(false);
  });

  it("passes an expired lock to the waiter when its TTL runs out", async () => {
    const name = uniqueName("ttl");
    const holder = await clients.authed({ clientId: uniqueName("client") });
    const waiter = await clients.authed({ clientId: uniqueName("client") });
    requestLock(holder, name, "h", 1_000);
    const first = await granted(holder, "h");
    requestLock(waiter, name, "w");

    const second = await granted(waiter, "w", 6_000);

    expect(second.payload.fencingToken).toBe(first.payload.fencingToken + 1);
    const late = await release(holder, name, "h-release", first.payload.fencingToken);
    expect(late.payload.success).toBe(false);
  });

  it("releases a lock when its holder disconnects and drops the holder's queued requests", async () => {
    const name = uniqueName("disconnect");
    const other = uniqueName("disconnect-other");
    const holder = await clients.authed({ clientId: uniqueName("client") });
    const waiter = await clients.authed({ clientId: uniqueName("client") });
    const otherHolder = await clients.authed({ clientId: uniqueName("client") });
    requestLock(holder, name, "h");
    const first = await granted(holder, "h");
    requestLock(otherHolder, other, "o");
    const otherGrant = await granted(otherHolder, "o");
    requestLock(waiter, name, "w");
    requestLock(holder, other, "h-queued");
    await waiter.barrier();
    await holder.barrier();

    holder.close();
    const second = await granted(waiter, "w");
    expect(second.payload.fencingToken).toBe(first.payload.fencingToken + 1);

    // The closed holder's queued request is gone: the other lock goes free, so a new request gets it at once.
    await release(otherHolder, other, "o-release", otherGrant.payload.fencingToken);
    requestLock(waiter, other, "w-other");
    const next = await granted(waiter, "w-other");
    expect(next.payload.fencingToken).toBe(otherGrant.payload.fencingToken + 1);
  });
});
