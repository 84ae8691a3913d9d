import { env, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { connectAs } from "../../test/workerd/connect.ts";
import { controlApi, controlObjectName } from "./control.ts";

function binding() {
  if (!env.CONTROL) throw new Error("the test configuration binds CONTROL");
  return env.CONTROL;
}

const controlOf = (namespace: string) => controlApi(binding(), namespace);

const put = (ns: string, id: string) => ({ type: "CLIENT_OP", payload: { id, mapName: "notes", key: id, opType: "PUT", record: { value: { n: 1 }, timestamp: { millis: Date.now(), counter: 0, nodeId: "w" } } } });

describe("the control object and the partitions' policy cache", () => {
  it("keeps policies and the configured flag across eviction", async () => {
    const control = controlOf("ctl-evict");
    await control.putPolicy({ id: "p", mapPattern: "notes", action: "read", effect: "allow" });
    await evictDurableObject(binding().get(binding().idFromName(controlObjectName("ctl-evict"))));
    const snapshot = await controlOf("ctl-evict").policySnapshot();
    expect(snapshot.configured).toBe(true);
    expect(snapshot.version).toBe(1);
    expect(snapshot.policies.map((p) => p.id)).toEqual(["p"]);
  });

  it("lets a partition see a new policy within a second, and lets admin subjects bypass it", async () => {
    const ns = "ctl-reload";
    const writer = await connectAs(`namespace=${ns}&clientId=w1`, "someone");
    const root = await connectAs(`namespace=${ns}&clientId=w2`, "root-admin");
    writer.send(put(ns, "before"));
    await writer.waitFor("OP_ACK");

    await controlOf(ns).putPolicy({ id: "deny-notes", mapPattern: "notes", action: "write", effect: "deny" });
    const deadline = Date.now() + 3_000;
    let attempt = 0;
    for (;;) {
      const id = `after-${attempt++}`;
      writer.send(put(ns, id));
      const answer = await writer.waitFor("OP_ACK", (m) => (m.payload as { lastId: string }).lastId === id);
      const rejected = writer.inbox.some((m) => m.type === "OP_REJECTED" && (m.payload as { opId: string }).opId === id);
      if (rejected) break;
      expect(answer).toBeDefined();
      if (Date.now() > deadline) throw new Error("the partition did not see the policy within 3 s");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    root.send(put(ns, "by-root"));
    await root.waitFor("OP_ACK");
    expect(root.inbox.filter((m) => m.type === "OP_REJECTED")).toEqual([]);
    writer.close();
    root.close();
  });
});
