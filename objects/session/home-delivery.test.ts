import { describe, expect, it } from "vitest";
import type { PolicySnapshot } from "../../core/access-policy.ts";
import { decodeMessage, encodeMessage } from "../../core/codec.ts";
import type { Principal } from "../../core/principal.ts";
import { deferred } from "../../test/support/deferred.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { AccessGuard } from "../access/access-guard.ts";
import { PolicyCache } from "../access/policy-cache.ts";
import { ConnectionSubscriptions } from "../delivery/connection-subscriptions.ts";
import { applySchema } from "../storage/schema.ts";
import { HomeDelivery, type DeliverySocket } from "./home-delivery.ts";
import { OutboundGuard, type OutboundCheck } from "./outbound-guard.ts";

const principal = (id: string): Principal => ({ id, roles: [], claims: {} });
const topicFrame = (n: number) => encodeMessage({ type: "TOPIC_MESSAGE", payload: { topic: "chat", data: n, publisherId: "p", timestamp: 1 } });

/** A home whose sockets record what they were sent, over policies the test hands out when it wants. */
function setup(principals: Record<string, string>) {
  const sql = nodeSqlPort();
  applySchema(sql);
  // Every delivery waits for the policies until the test answers them (as a home waits for its first copy).
  const policiesAnswer = deferred<PolicySnapshot>();
  const policies = new PolicyCache({ fetch: () => policiesAnswer.promise });
  const received = new Map<string, number[]>();
  const socketsOf = (conn: string): DeliverySocket[] => {
    const id = principals[conn];
    if (id === undefined) return [];
    return [{ principal: principal(id), send: (frame) => received.set(conn, [...(received.get(conn) ?? []), readData(frame)]) }];
  };
  const guard = new OutboundGuard({
    access: new AccessGuard({ policies, adminSubjects: new Set(["admin"]) }),
    queries: new ConnectionSubscriptions(sql, { name: "conn_query", id: "query_id" }),
    searches: new ConnectionSubscriptions(sql, { name: "conn_search", id: "sub_id" }),
  });
  return { delivery: new HomeDelivery({ socketsOf, guard }), received, answerPolicies: policiesAnswer.resolve, socketsOf };
}

function readData(frame: Uint8Array): number {
  const message = decodeMessage(frame) as { payload: { data: number } };
  return message.payload.data;
}

const open: PolicySnapshot = { version: 1, configured: false, policies: [] };

describe("HomeDelivery", () => {
  it("sends later deliveries after earlier ones to each connection, whatever order their checks finish in", async () => {
    const { delivery, received, answerPolicies } = setup({ a: "alice", b: "bob" });

    const first = delivery.deliverEach([{ conn: "a", frames: [topicFrame(1), topicFrame(2)] }, { conn: "b", frames: [topicFrame(1)] }]);
    const second = delivery.deliver(["a", "b"], [topicFrame(3)]);
    const third = delivery.deliverEach([{ conn: "b", frames: [topicFrame(4)] }]);
    answerPolicies(open);
    await Promise.all([first, second, third]);

    expect(received.get("a")).toEqual([1, 2, 3]);
    expect(received.get("b")).toEqual([1, 3, 4]);
  });

  it("answers the connections it has no socket for and still delivers to the others", async () => {
    const { delivery, received, answerPolicies } = setup({ a: "alice" });

    const unknown = delivery.deliver(["a", "gone"], [topicFrame(1)]);
    answerPolicies(open);

    expect(await unknown).toEqual(["gone"]);
    expect(received.get("a")).toEqual([1]);
  });

  it("passes every frame through the reader's current access: a topic nobody may read reaches only an admin subject", async () => {
    const { delivery, received, answerPolicies } = setup({ a: "admin", b: "bob" });
    const onlyTodos: PolicySnapshot = { version: 2, configured: true, policies: [{ id: "p", mapPattern: "todos", action: "read", effect: "allow" }] };

    const sent = delivery.deliver(["a", "b"], [topicFrame(1)]);
    answerPolicies(onlyTodos);
    await sent;

    expect(received.get("a")).toEqual([1]);
    expect(received.get("b")).toBeUndefined();
  });

  it("sends a delivery within the call when the home holds the policies and no delivery waits", async () => {
    const { delivery, received, answerPolicies } = setup({ a: "alice" });
    const first = delivery.deliver(["a"], [topicFrame(1)]);
    answerPolicies(open);
    await first;

    const unknown = delivery.deliver(["a", "gone"], [topicFrame(2)]);

    expect(received.get("a")).toEqual([1, 2]);
    expect(unknown).toEqual(["gone"]);
  });

  it("keeps a delivery it could check at once behind an earlier one still waiting for the policies", async () => {
    const { socketsOf, received } = setup({ a: "alice" });
    const passAll: OutboundCheck = (_conn, _principal, frames) => frames;
    const policiesFetched = deferred<OutboundCheck>();
    let atHand: OutboundCheck | undefined;
    const delivery = new HomeDelivery({ socketsOf, guard: { checkNow: () => atHand, check: () => policiesFetched.promise } });

    const first = delivery.deliver(["a"], [topicFrame(1)]);
    atHand = passAll;
    const second = delivery.deliver(["a"], [topicFrame(2)]);
    expect(received.get("a")).toBeUndefined();
    policiesFetched.resolve(passAll);
    await Promise.all([first, second]);

    expect(received.get("a")).toEqual([1, 2]);
  });
});
