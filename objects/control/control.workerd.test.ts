import { env, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { connectAs } from "../../test/workerd/connect.ts";
import { partitionObjectName } from "../../core/object-name.ts";
import { partitionOfShard } from "../../core/placement.ts";
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

  it("keeps map schemas and their version across eviction", async () => {
    const control = controlOf("ctl-schema-evict");
    await control.putSchema("todos", { type: "object" }, 10);
    await control.putSchema("todos", { type: "object", required: ["title"] }, 10);
    await evictDurableObject(binding().get(binding().idFromName(controlObjectName("ctl-schema-evict"))));
    const after = controlOf("ctl-schema-evict");
    expect(await after.getSchema("todos")).toEqual({ map: "todos", version: 2, schema: { type: "object", required: ["title"] } });
    expect(await after.schemaChanges(2)).toEqual({ version: 2 });
    expect(await after.putSchema("notes", true, 1)).toBeUndefined();
  });

  it("has the home refuse a value that breaks the map's schema, and again after the home and the control object are evicted", async () => {
    const ns = "ctl-schema-enforce";
    await controlOf(ns).putSchema("notes", { type: "object", properties: { n: { type: "integer" } } }, 10);
    const bad = (id: string) => ({ type: "CLIENT_OP", payload: { id, mapName: "notes", key: id, opType: "PUT", record: { value: { n: "one" }, timestamp: { millis: Date.now(), counter: 0, nodeId: "w" } } } });
    const refusedOn = async (socket: Awaited<ReturnType<typeof connectAs>>, id: string) => {
      socket.send(bad(id));
      await socket.waitFor("OP_ACK", (m) => (m.payload as { lastId: string }).lastId === id);
      return socket.inbox.find((m) => m.type === "OP_REJECTED" && (m.payload as { opId: string }).opId === id);
    };
    const writer = await connectAs(`namespace=${ns}&map=notes`, "someone");
    expect(await refusedOn(writer, "first")).toEqual({
      type: "OP_REJECTED",
      payload: { opId: "first", code: 422, reason: 'value does not conform to the schema of map notes at /n: rule #/properties/n/type (type): Instance type "string" is invalid. Expected "integer".' },
    });
    writer.close();
    const partitions = env.PARTITION;
    await evictDurableObject(binding().get(binding().idFromName(controlObjectName(ns))));
    await evictDurableObject(partitions.get(partitions.idFromName(partitionObjectName(ns, partitionOfShard("notes", 0)))));
    const again = await connectAs(`namespace=${ns}&map=notes`, "someone");
    expect(await refusedOn(again, "second")).toMatchObject({ payload: { opId: "second", code: 422 } });
    again.close();
  });
});
