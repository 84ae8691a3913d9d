import { describe, expect, it } from "vitest";
import { parseClientMessage } from "./message.ts";

function querySub(query: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return parseClientMessage({ type: "QUERY_SUB", payload: { queryId: "q", mapName: "m", query, ...extra } });
}

describe("QUERY_SUB of TopGun main (PROTOCOL-NEXT.md §4)", () => {
  it("accepts sort as an ordered array and as the v0.12 map", () => {
    expect(querySub({ sort: [{ field: "a", direction: "desc" }, { field: "_key", direction: "asc" }] }).ok).toBe(true);
    expect(querySub({ sort: { a: "desc" } }).ok).toBe(true);
  });

  it("rejects a sort direction other than asc or desc", () => {
    expect(querySub({ sort: [{ field: "a", direction: "up" }] }).ok).toBe(false);
  });

  it("accepts groupBy, aggregations and fields beside the query", () => {
    const result = querySub(
      { groupBy: ["status"], aggregations: [{ func: "count" }, { func: "sum", field: "amount" }] },
      { fields: ["status"] },
    );
    expect(result.ok).toBe(true);
  });

  it("rejects an aggregation other than count without a field, and an unknown function", () => {
    expect(querySub({ groupBy: ["s"], aggregations: [{ func: "sum" }] }).ok).toBe(false);
    expect(querySub({ groupBy: ["s"], aggregations: [{ func: "median", field: "a" }] }).ok).toBe(false);
  });
});
