import { describe, expect, it } from "vitest";
import type { PolicySnapshot } from "../../core/access-policy.ts";
import { POLICY_REFRESH_AHEAD_MS, POLICY_REFRESH_MS, PolicyCache } from "./policy-cache.ts";

const snap = (version: number): PolicySnapshot => ({ version, configured: true, policies: [] });

function setup() {
  let now = 1_000;
  let version = 1;
  let failing = false;
  let fetches = 0;
  const cache = new PolicyCache({
    clock: () => now,
    random: () => 0,
    fetch: async () => {
      fetches += 1;
      if (failing) throw new Error("control object away");
      return snap(version);
    },
  });
  return {
    cache,
    advance: (ms: number) => (now += ms),
    publish: (v: number) => (version = v),
    fail: (on: boolean) => (failing = on),
    fetches: () => fetches,
  };
}

describe("PolicyCache", () => {
  it("serves its copy for a second, then sees the new version", async () => {
    const t = setup();
    expect((await t.cache.current()).version).toBe(1);
    t.publish(2);
    t.advance(POLICY_REFRESH_MS - 1);
    expect((await t.cache.current()).version).toBe(1);
    t.advance(1);
    expect((await t.cache.current()).version).toBe(2);
    expect(t.fetches()).toBe(2);
  });

  it("has no copy at hand before the first fetch, and none once its copy is too old to serve", async () => {
    const t = setup();
    expect(t.cache.atHand()).toBeUndefined();
    await t.cache.current();
    expect(t.cache.atHand()?.version).toBe(1);
    t.advance(POLICY_REFRESH_MS);
    expect(t.cache.atHand()).toBeUndefined();
  });

  it("asks the control object once for concurrent callers", async () => {
    const t = setup();
    await Promise.all([t.cache.current(), t.cache.current(), t.cache.current()]);
    expect(t.fetches()).toBe(1);
  });

  it("keeps serving its copy while the control object is away, and retries soon", async () => {
    const t = setup();
    await t.cache.current();
    t.fail(true);
    t.advance(POLICY_REFRESH_MS);
    expect((await t.cache.current()).version).toBe(1);
    t.fail(false);
    t.publish(3);
    t.advance(300);
    expect((await t.cache.current()).version).toBe(3);
  });

  it("fails when it has no copy and the control object is away (so access is denied)", async () => {
    const t = setup();
    t.fail(true);
    await expect(Promise.resolve(t.cache.current())).rejects.toThrow("control object away");
  });

  it("spreads the background refresh of copies fetched together over the window before the refresh interval", async () => {
    let now = 0;
    const fetches: number[] = [];
    const caches = [0, 0.5, 0.99].map(
      (draw) => new PolicyCache({ clock: () => now, random: () => draw, fetch: async () => (fetches.push(now), snap(1)) }),
    );
    await Promise.all(caches.map((c) => c.current()));
    fetches.length = 0;

    for (now = 0; now < POLICY_REFRESH_MS; now += 10) caches.forEach((c) => c.current());

    expect(fetches).toEqual([POLICY_REFRESH_AHEAD_MS, 730, 950]);
  });

  it("answers its copy at once past the refresh-ahead age and refreshes in the background", async () => {
    const t = setup();
    await t.cache.current();
    t.publish(2);
    t.advance(POLICY_REFRESH_AHEAD_MS);
    const answer = t.cache.current();
    expect("then" in answer).toBe(false);
    expect((answer as { version: number }).version).toBe(1);
    expect(t.fetches()).toBe(2);
    await Promise.resolve();
    expect((await t.cache.current()).version).toBe(2);
    expect(t.fetches()).toBe(2);
  });

  it("never serves a copy older than the refresh interval: past it the caller waits for the new version", async () => {
    let release: (() => void) | undefined;
    let version = 1;
    let now = 0;
    const cache = new PolicyCache({
      clock: () => now,
      fetch: () => (version === 1 ? Promise.resolve(snap(1)) : new Promise((resolve) => (release = () => resolve(snap(version))))),
    });
    await cache.current();
    version = 2;
    now = POLICY_REFRESH_MS;
    const answer = cache.current();
    expect("then" in answer).toBe(true);
    release?.();
    expect((await answer).version).toBe(2);
  });
});
