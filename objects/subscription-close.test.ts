import { describe, expect, it } from "vitest";
import { parseShardConfig, partitionsOfMap } from "../core/placement.ts";
import { nodeSqlPort } from "../test/support/node-sql-port.ts";
import type { OwnerApi } from "./owner-api.ts";
import { QueryCoordinator } from "./query-coordinator.ts";
import { applySchema } from "./schema.ts";
import { SearchCoordinator } from "./search-coordinator.ts";

const HOME = 3;
const shards = parseShardConfig("wide:4");

/** Owners that answer every subscription with nothing and record the connections they were told to drop. */
function setup() {
  const sql = nodeSqlPort();
  applySchema(sql);
  const drops: string[] = [];
  const owners = (partition: number) =>
    ({
      querySubscribe: async () => [],
      searchSubscribe: async () => [],
      dropConnection: async (r: { home: number; conn: string }) => void drops.push(`p${partition} ${r.home}/${r.conn}`),
    }) as unknown as OwnerApi;
  const deps = { owners, shards: () => shards, sql, home: HOME };
  return { queries: new QueryCoordinator(deps), search: new SearchCoordinator(deps), drops };
}

const expectedDrops = (maps: string[], conn: string) =>
  [...new Set(maps.flatMap((map) => partitionsOfMap(shards, map)))].map((p) => `p${p} ${HOME}/${conn}`).sort();

describe("subscriptions end when their connection closes", () => {
  it("drops a closed connection's queries at every owner of the maps it queried, every shard included, once", async () => {
    const { queries, drops } = setup();
    await queries.subscribe("c1", { queryId: "q1", mapName: "wide", query: {} }, () => undefined);
    await queries.subscribe("c1", { queryId: "q2", mapName: "plain", query: {} }, () => undefined);

    await queries.closed("c1");
    await queries.closed("c1");

    expect(drops.sort()).toEqual(expectedDrops(["wide", "plain"], "c1"));
  });

  it("drops a closed connection's search subscriptions at every owner of the maps it searched, once", async () => {
    const { search, drops } = setup();
    await search.subscribe("c1", { subscriptionId: "s1", mapName: "wide", query: "fox" }, () => undefined);

    await search.closed("c1");
    await search.closed("c1");

    expect(drops.sort()).toEqual(expectedDrops(["wide"], "c1"));
  });

  it("leaves other connections' subscriptions alone", async () => {
    const { queries, drops } = setup();
    await queries.subscribe("c1", { queryId: "q1", mapName: "plain", query: {} }, () => undefined);

    await queries.closed("c2");

    expect(drops).toEqual([]);
  });
});
