import { describe, expect, it } from "vitest";
import { clientPool, uniqueName } from "../support/e2e-context.ts";

const clients = clientPool();

describe("PN counters", () => {
  it("answers COUNTER_REQUEST for a new counter with an empty state in both spellings", async () => {
    const name = uniqueName("counter");
    const client = await clients.authed({ clientId: uniqueName("client") });

    client.send({ type: "COUNTER_REQUEST", payload: { name } });
    const response = await client.waitFor("COUNTER_RESPONSE");

    expect(response.payload.name).toBe(name);
    expect(client.rawOf(response)).toMatchObject({ payload: { state: { p: {}, n: {}, positive: {}, negative: {} } } });
  });

  it("converges clients that sync with {p,n} and {positive,negative} states", async () => {
    const name = uniqueName("counter");
    const a = await clients.authed({ clientId: uniqueName("client") });
    const b = await clients.authed({ clientId: uniqueName("client") });
    a.send({ type: "COUNTER_REQUEST", payload: { name } });
    b.send({ type: "COUNTER_REQUEST", payload: { name } });
    await a.waitFor("COUNTER_RESPONSE");
    await b.waitFor("COUNTER_RESPONSE");

    a.send({ type: "COUNTER_SYNC", payload: { name, state: { p: { na: 5 }, n: { na: 1 } } } });
    const own = await a.waitFor("COUNTER_UPDATE");
    expect(own.payload.state).toEqual({ p: { na: 5 }, n: { na: 1 } });
    await b.waitFor("COUNTER_UPDATE", { where: (m) => m.payload.state.p.na === 5 });

    b.send({ type: "COUNTER_SYNC", payload: { name, state: { positive: { na: 3, nb: 2 }, negative: { nb: 4 } } } });
    const expected = { p: { na: 5, nb: 2 }, n: { na: 1, nb: 4 } };
    const atB = await b.waitFor("COUNTER_UPDATE", { where: (m) => m.payload.state.p.nb === 2 });
    const atA = await a.waitFor("COUNTER_UPDATE", { where: (m) => m.payload.state.p.nb === 2 });

    expect(atA.payload.state).toEqual(expected);
    expect(atB.payload.state).toEqual(expected);
    expect(a.rawOf(atA)).toMatchObject({ payload: { state: { ...expected, positive: expected.p, negative: expected.n } } });
  });

  it("keeps the merged state for a later COUNTER_REQUEST", async () => {
    const name = uniqueName("counter");
    const writer = await clients.authed({ clientId: uniqueName("client") });
    writer.send({ type: "COUNTER_SYNC", payload: { name, state: { p: { w: 7 }, n: {} } } });
    await writer.waitFor("COUNTER_UPDATE");
    writer.close();

    const reader = await clients.authed({ clientId: uniqueName("client") });
    reader.send({ type: "COUNTER_REQUEST", payload: { name } });
    const response = await reader.waitFor("COUNTER_RESPONSE");

    expect(response.payload.state).toEqual({ p: { w: 7 }, n: {} });
  });
});
