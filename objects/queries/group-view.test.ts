import { describe, expect, it } from "vitest";
import { decodeMessage } from "../../core/codec.ts";
import { queryUpdateMessageSchema } from "../../core/protocol/query.ts";
import { groupSpecOf, groupValues } from "../../core/query-groups.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { applySchema } from "../storage/schema.ts";
import type { StoredQuery } from "./query-answer.ts";
import { GroupView } from "./group-view.ts";

const query: StoredQuery = { groupBy: ["status"], aggregations: [{ func: "sum", field: "amount" }] };
const spec = groupSpecOf(query);

function setup() {
  const sql = nodeSqlPort();
  applySchema(sql);
  const view = new GroupView(sql);
  const seeded = view.seed("c", "q", query, [
    { partition: 1, groups: groupValues(spec, [{ status: "open", amount: 10 }]) },
    { partition: 2, groups: groupValues(spec, [{ status: "open", amount: 5 }, { status: "done", amount: 1 }]) },
  ]);
  const shard = (partition: number, values: unknown[]) =>
    view.apply("c", "q", query, partition, groupValues(spec, values)).map((f) => {
      const { payload } = queryUpdateMessageSchema.parse(decodeMessage(f));
      return [payload.changeType, payload.value];
    });
  return { seeded, shard };
}

describe("GroupView (live grouped queries)", () => {
  it("merges every shard's partials into one row per group", () => {
    const { seeded } = setup();
    expect(seeded.map((e) => e.value)).toEqual([
      { status: "done", __count: 1, __sum_amount: 1 },
      { status: "open", __count: 2, __sum_amount: 15 },
    ]);
  });

  it("sends UPDATE with the merged row when one shard's part of a group changes", () => {
    const { shard } = setup();
    expect(shard(1, [{ status: "open", amount: 10 }, { status: "open", amount: 3 }])).toEqual([
      ["UPDATE", { status: "open", __count: 3, __sum_amount: 18 }],
    ]);
  });

  it("sends ENTER for a new group and LEAVE (value null) for a group no shard holds any more", () => {
    const { shard } = setup();
    expect(shard(2, [{ status: "open", amount: 5 }, { status: "late", amount: 2 }])).toEqual([
      ["LEAVE", null],
      ["ENTER", { status: "late", __count: 1, __sum_amount: 2 }],
    ]);
  });

  it("sends nothing when a shard's new partials leave every row as it was", () => {
    const { shard } = setup();
    expect(shard(1, [{ status: "open", amount: 10 }])).toEqual([]);
  });
});
