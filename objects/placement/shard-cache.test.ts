import { describe, expect, it } from "vitest";
import { parseShardConfig, type ShardSnapshot } from "../../core/placement.ts";
import { SHARD_REFRESH_MS, ShardCache } from "./shard-cache.ts";

function setup() {
  let now = 1_000;
  let snapshot: ShardSnapshot = { version: 0, maps: {} };
  let failing = false;
  let fetches = 0;
  const cache = new ShardCache({
    defaults: parseShardConfig("env-map:4"),
    clock: () => now,
    fetch: async () => {
      fetches += 1;
      if (failing) throw new Error("control object away");
      return snapshot;
    },
  });
  return {
    cache,
    advance: (ms: number) => (now += ms),
    publish: (next: ShardSnapshot) => (snapshot = next),
    fail: (on: boolean) => (failing = on),
    fetches: () => fetches,
  };
}

describe("ShardCache", () => {
  it("places by the deployment's defaults with the namespace's own counts over them", async () => {
    const { cache, publish } = setup();
    publish({ version: 1, maps: { orders: 16 } });
    await cache.ready();
    expect(cache.config().get("env-map")).toBe(4);
    expect(cache.config().get("orders")).toBe(16);
  });

  it("serves its copy for a second, then sees a new count without making a message wait for it", async () => {
    const { cache, publish, advance, fetches } = setup();
    await cache.ready();
    publish({ version: 1, maps: { orders: 8 } });
    await cache.ready();
    expect(cache.config().get("orders")).toBeUndefined();
    expect(fetches()).toBe(1);
    advance(SHARD_REFRESH_MS);
    expect(cache.ready()).toBeUndefined();
    expect(cache.config().get("orders")).toBeUndefined();
    await cache.refresh(); // the refresh ready() started
    expect(fetches()).toBe(2);
    expect(cache.config().get("orders")).toBe(8);
  });

  it("asks again at once when refreshed after a stale-placement refusal", async () => {
    const { cache, publish } = setup();
    await cache.ready();
    publish({ version: 1, maps: { orders: 8 } });
    await cache.refresh();
    expect(cache.config().get("orders")).toBe(8);
  });

  it("keeps its copy while the control object is away, and refuses to guess without one", async () => {
    const { cache, publish, advance, fail } = setup();
    fail(true);
    await expect(cache.ready()).rejects.toThrow("control object away");
    fail(false);
    publish({ version: 1, maps: { orders: 8 } });
    await cache.ready();
    fail(true);
    advance(SHARD_REFRESH_MS);
    expect(cache.ready()).toBeUndefined();
    await cache.refresh();
    expect(cache.config().get("orders")).toBe(8);
  });

  it("needs nothing but the defaults without a control object", () => {
    const cache = new ShardCache({ defaults: parseShardConfig("a:2") });
    expect(cache.ready()).toBeUndefined();
    expect(cache.config().get("a")).toBe(2);
  });
});
