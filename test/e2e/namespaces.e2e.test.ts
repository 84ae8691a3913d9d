import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { clientPool, uniqueName } from "../support/e2e-context.ts";
import { lwwPut } from "../support/ws-client.ts";

const clients = clientPool();

describe("namespaces", () => {
  it("keeps a namespace's maps apart from the same map of another namespace", async () => {
    const map = uniqueName("tenant");
    const tenantA = await clients.authed({ map, namespace: "tenant-a" });
    const tenantB = await clients.authed({ map, namespace: "tenant-b" });
    await tenantA.write([lwwPut(map, "k", "only in a", new HLC("writera").now())]);

    tenantA.send({ type: "SYNC_INIT", mapName: map });
    tenantB.send({ type: "SYNC_INIT", mapName: map });
    const rootA = await tenantA.waitFor("SYNC_RESP_ROOT");
    const rootB = await tenantB.waitFor("SYNC_RESP_ROOT");

    expect(rootA.payload.rootHash).not.toBe(0);
    expect(rootB.payload.rootHash).toBe(0);
  });
});
