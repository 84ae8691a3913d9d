import { describe, expect, it } from "vitest";
import { decodeMessage } from "../../core/codec.ts";
import type { QueryEntry } from "../../core/predicate.ts";
import { queryUpdateMessageSchema } from "../../core/protocol/query.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { applySchema } from "../storage/schema.ts";
import type { StoredQuery } from "./query-answer.ts";
import { WindowView } from "./window-view.ts";

const query: StoredQuery = { sort: [{ field: "score", direction: "asc" }], limit: 3 };
const row = (key: string, score: number): QueryEntry => ({ key, value: { score } });

function setup(all: QueryEntry[]) {
  const sql = nodeSqlPort();
  applySchema(sql);
  const view = new WindowView(sql);
  /** The records the owners hold now; a re-read answers their best `limit`. */
  const records = new Map(all.map((e) => [e.key, e.value]));
  let rereads = 0;
  const readWindow = async () => {
    rereads++;
    return [...records]
      .map(([key, value]) => ({ key, value }))
      .sort((a, b) => Number((a.value as { score: number }).score) - Number((b.value as { score: number }).score))
      .slice(0, 3);
  };
  view.seed("c", "q", query, all.slice(0, 3));
  const write = async (key: string, score: number | null) => {
    if (score === null) records.delete(key);
    else records.set(key, { score });
    const frames = await view.apply({ conn: "c", queryId: "q", query }, [{ key, value: score === null ? null : { score } }], readWindow);
    return frames.map((f) => {
      const { payload } = queryUpdateMessageSchema.parse(decodeMessage(f));
      return [payload.changeType, payload.key, payload.value];
    });
  };
  return { write, rereads: () => rereads };
}

describe("WindowView (live top-N)", () => {
  it("sends LEAVE for the displaced row, then ENTER for a row that sorts inside a full window", async () => {
    const { write } = setup([row("p", 1), row("q", 4), row("r", 7), row("t", 9)]);
    expect(await write("s", 2)).toEqual([
      ["LEAVE", "r", null],
      ["ENTER", "s", { score: 2 }],
    ]);
  });

  it("sends nothing for a new row that sorts outside a full window", async () => {
    const { write, rereads } = setup([row("p", 1), row("q", 4), row("r", 7)]);
    expect(await write("z", 8)).toEqual([]);
    expect(rereads()).toBe(0);
  });

  it("refills a freed slot with the best row outside the window", async () => {
    const { write } = setup([row("p", 1), row("q", 4), row("r", 7), row("t", 9), row("u", 12)]);
    expect(await write("q", null)).toEqual([
      ["LEAVE", "q", null],
      ["ENTER", "t", { score: 9 }],
    ]);
  });

  it("sends UPDATE for a row that moves inside the window", async () => {
    const { write } = setup([row("p", 1), row("q", 4), row("r", 7), row("t", 9)]);
    expect(await write("r", 3)).toEqual([["UPDATE", "r", { score: 3 }]]);
  });

  it("swaps a row that sorts past the window's end for the best row outside", async () => {
    const { write } = setup([row("p", 1), row("q", 4), row("r", 7), row("t", 9)]);
    expect(await write("q", 20)).toEqual([
      ["LEAVE", "q", null],
      ["ENTER", "t", { score: 9 }],
    ]);
  });

  it("fills a window short of its limit without reading the owners", async () => {
    const { write, rereads } = setup([row("p", 1), row("q", 4)]);
    expect(await write("p", null)).toEqual([["LEAVE", "p", null]]);
    expect(await write("z", 100)).toEqual([["ENTER", "z", { score: 100 }]]);
    expect(rereads()).toBe(0);
  });
});
