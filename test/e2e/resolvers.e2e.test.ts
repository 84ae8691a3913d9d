import { describe, expect, it } from "vitest";
import { clientPool, uniqueName } from "../support/e2e-context.ts";

const clients = clientPool();

describe("conflict resolvers", () => {
  it("answers REGISTER_RESOLVER with success false and a 'not supported on the edge' error", async () => {
    const client = await clients.authed();
    const requestId = uniqueName("r");

    client.send({
      type: "REGISTER_RESOLVER",
      requestId,
      mapName: "todos",
      resolver: { name: "keep-higher", code: "return local.value > remote.value ? local : remote;", priority: 10 },
    });

    const response = await client.waitFor("REGISTER_RESOLVER_RESPONSE", { where: (m) => m.requestId === requestId });
    expect(response.success).toBe(false);
    expect(response.error).toMatch(/not supported on the edge/);
  });

  it("answers UNREGISTER_RESOLVER with success false and the same error", async () => {
    const client = await clients.authed();
    const requestId = uniqueName("r");

    client.send({ type: "UNREGISTER_RESOLVER", requestId, mapName: "todos", resolverName: "keep-higher" });

    const response = await client.waitFor("UNREGISTER_RESOLVER_RESPONSE", { where: (m) => m.requestId === requestId });
    expect([response.success, response.error]).toEqual([false, expect.stringMatching(/not supported on the edge/)]);
  });

  it("answers LIST_RESOLVERS with an empty list", async () => {
    const client = await clients.authed();
    const requestId = uniqueName("r");

    client.send({ type: "LIST_RESOLVERS", requestId, mapName: "todos" });

    const response = await client.waitFor("LIST_RESOLVERS_RESPONSE", { where: (m) => m.requestId === requestId });
    expect(response.resolvers).toEqual([]);
  });
});
