import { describe, expect, it } from "vitest";
import type { Access } from "../../core/access-policy.ts";
import { exposureOf, mayReceive } from "./outbound-guard.ts";

const maps = (kind: "query" | "search", id: string) => (id === "q1" && kind === "query" ? "todos" : id === "s1" && kind === "search" ? "notes" : undefined);
const accessOf = (access: Access) => () => access;
const own: Access = { kind: "filter", filter: { op: "eq", attribute: "ownerId", value: "bob" } };

describe("exposureOf", () => {
  it("names the map of a SERVER_EVENT, a journal event (nested once or twice) and a search update", () => {
    expect(exposureOf({ type: "SERVER_EVENT", payload: { mapName: "m", key: "k" } }, maps)).toEqual({ kind: "whole", resource: "m" });
    expect(exposureOf({ type: "JOURNAL_EVENT", event: { mapName: "j" } }, maps)).toEqual({ kind: "whole", resource: "j" });
    expect(exposureOf({ type: "JOURNAL_EVENT", event: { event: { mapName: "j2" } } }, maps)).toEqual({ kind: "whole", resource: "j2" });
    expect(exposureOf({ type: "SEARCH_UPDATE", payload: { subscriptionId: "s1" } }, maps)).toEqual({ kind: "whole", resource: "notes" });
  });

  it("names topics and counters by their resource names and a query update by its record", () => {
    expect(exposureOf({ type: "TOPIC_MESSAGE", payload: { topic: "chat" } }, maps)).toEqual({ kind: "whole", resource: "topic:chat" });
    expect(exposureOf({ type: "COUNTER_UPDATE", payload: { name: "likes" } }, maps)).toEqual({ kind: "whole", resource: "counter:likes" });
    expect(exposureOf({ type: "QUERY_UPDATE", payload: { queryId: "q1", key: "k", value: { a: 1 }, changeType: "ENTER" } }, maps)).toEqual({
      kind: "record",
      resource: "todos",
      key: "k",
      value: { a: 1 },
      leave: false,
    });
  });

  it("exposes nothing for frames it does not know or subscriptions it cannot place", () => {
    expect(exposureOf({ type: "LOCK_GRANTED", payload: {} }, maps)).toEqual({ kind: "none" });
    expect(exposureOf({ type: "QUERY_UPDATE", payload: { queryId: "gone", key: "k" } }, maps)).toEqual({ kind: "none" });
    expect(exposureOf("junk", maps)).toEqual({ kind: "none" });
  });
});

describe("mayReceive", () => {
  it("lets whole-resource frames through only with access to the whole resource", () => {
    const event = { kind: "whole", resource: "m" } as const;
    expect(mayReceive(event, accessOf({ kind: "all" }))).toBe("yes");
    expect(mayReceive(event, accessOf(own))).toBe("no");
    expect(mayReceive(event, accessOf({ kind: "none" }))).toBe("no");
  });

  it("checks a query update's record against the current filter, and strips a LEAVE's value the reader may not see", () => {
    const record = (value: unknown, leave = false) => ({ kind: "record", resource: "todos", key: "k", value, leave }) as const;
    expect(mayReceive(record({ ownerId: "bob" }), accessOf(own))).toBe("yes");
    expect(mayReceive(record({ ownerId: "alice" }), accessOf(own))).toBe("no");
    expect(mayReceive(record({ ownerId: "alice" }, true), accessOf(own))).toBe("without-value");
    expect(mayReceive(record({ ownerId: "alice" }, true), accessOf({ kind: "none" }))).toBe("no");
  });

  it("lets a grouped or projected query's update through with any read access: it carries no record to check", () => {
    const update = { type: "QUERY_UPDATE", payload: { queryId: "q1", key: "[[\"s\",\"open\"]]", value: { status: "open", __count: 2 }, changeType: "UPDATE" } };
    const exposure = exposureOf(update, maps, (queryId) => queryId === "q1");
    expect(exposure).toEqual({ kind: "derived", resource: "todos" });
    expect(mayReceive(exposure, accessOf(own))).toBe("yes");
    expect(mayReceive(exposure, accessOf({ kind: "none" }))).toBe("no");
  });
});
