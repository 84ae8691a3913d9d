import { describe, expect, it } from "vitest";
import { parseShardConfig, partitionsOfMap } from "../../core/placement.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { dropClosedConnection, type ConnectionForgetter } from "./connection-close.ts";
import type { OwnerApi } from "../owner-api.ts";
import { QueryCoordinator } from "../queries/query-coordinator.ts";
import { applySchema } from "../storage/schema.ts";
import { SearchCoordinator } from "../search/search-coordinator.ts";

const HOME = 3;
const shards = parseShardConfig("wide:4");

/** Owners that answer every subscription with nothing and record the connections they were told to drop. */
function setup() {
  const sql = nodeSqlPort();
  applySchema(sql);
  const drops: string[] = [];
  const owners = (partition: number) =>
    ({
      querySubscribe: async () => ({ kind: "entries", entries: [] }),
      searchStats: async () => ({ docs: 0, length: 0, df: {} }),
      searchSubscribe: async () => [],
      dropConnection: async (r: { home: number; conn: string }) => void drops.push(`p${partition} ${r.home}/${r.conn}`),
    }) as unknown as OwnerApi;
  const deps = { owners, shards: () => shards, sql, home: HOME };
  const queries = new QueryCoordinator(deps);
  const search = new SearchCoordinator(deps);
  const close = (conn: string, ...features: ConnectionForgetter[]) => dropClosedConnection(conn, HOME, features, owners);
  return { queries, search, close, drops };
}

const expectedDrops = (maps: string[], conn: string) =>
  [...new Set(maps.flatMap((map) => partitionsOfMap(shards, map)))].map((p) => `p${p} ${HOME}/${conn}`).sort();

describe("subscriptions end when their connection closes", () => {
  it("drops a closed connection's queries at every owner of the maps it queried, every shard included, once", async () => {
    const { queries, close, drops } = setup();
    await queries.subscribe("c1", { queryId: "q1", mapName: "wide", query: {} }, () => undefined);
    await queries.subscribe("c1", { queryId: "q2", mapName: "plain", query: {} }, () => undefined);

    await close("c1", queries);
    await close("c1", queries);

    expect(drops.sort()).toEqual(expectedDrops(["wide", "plain"], "c1"));
  });

  it("drops a closed connection's search subscriptions at every owner of the maps it searched, once", async () => {
    const { search, close, drops } = setup();
    await search.subscribe("c1", { subscriptionId: "s1", mapName: "wide", query: "fox" }, () => undefined);

    await close("c1", search);
    await close("c1", search);

    expect(drops.sort()).toEqual(expectedDrops(["wide"], "c1"));
  });

  it("tells each owner once when several features of the closed connection name it", async () => {
    const { queries, search, close, drops } = setup();
    await queries.subscribe("c1", { queryId: "q1", mapName: "wide", query: {} }, () => undefined);
    await search.subscribe("c1", { subscriptionId: "s1", mapName: "wide", query: "fox" }, () => undefined);

    await close("c1", queries, search);

    expect(drops.sort()).toEqual(expectedDrops(["wide"], "c1"));
  });

  it("leaves other connections' subscriptions alone", async () => {
    const { queries, close, drops } = setup();
    await queries.subscribe("c1", { queryId: "q1", mapName: "plain", query: {} }, () => undefined);

    await close("c2", queries);

    expect(drops).toEqual([]);
  });
});
