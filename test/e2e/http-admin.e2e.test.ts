import { describe, expect, it } from "vitest";
import { SHARDED_MAP } from "../support/e2e-config.ts";
import { adminCall } from "../support/admin-api.ts";
import { serverUrl, uniqueName } from "../support/e2e-context.ts";
import { apiCall, syncCall, userToken } from "../support/http-api.ts";
import { signToken } from "../support/tokens.ts";

const put = async (namespace: string, map: string, key: string, value: unknown) =>
  apiCall(serverUrl(), `/v1/maps/${map}/records/${key}`, { method: "PUT", namespace, token: await userToken("writer"), body: { value } });

/** Polls until `check` passes (the directory learns of a map in the background, just after the write). */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("admin reads: /api/admin/maps and /api/admin/status", () => {
  it("lists a namespace's maps with their live entry counts, a sharded map's shards summed, and nothing of another namespace", async () => {
    const namespace = uniqueName("maps");
    await put(namespace, "todos", "a", { t: 1 });
    await put(namespace, "todos", "b", { t: 2 });
    await put(namespace, "notes", "n", { t: 3 });
    for (let i = 0; i < 20; i++) await put(namespace, SHARDED_MAP, `k${i}`, i);
    await apiCall(serverUrl(), "/v1/maps/notes/records/n", { method: "DELETE", namespace, token: await userToken("writer") });
    await apiCall(serverUrl(), "/v1/ormaps/tags/records/doc", { method: "POST", namespace, token: await userToken("writer"), body: { value: "red" } });
    const listed = await eventually(
      () => adminCall(serverUrl(), "/api/admin/maps", { namespace }),
      (answer) => (answer.body as { maps?: unknown[] }).maps?.length === 4,
    );
    expect(listed).toEqual({
      status: 200,
      body: { maps: [{ name: "notes", entryCount: 0 }, { name: SHARDED_MAP, entryCount: 20 }, { name: "tags", entryCount: 1 }, { name: "todos", entryCount: 2 }] },
    });
    expect(await adminCall(serverUrl(), "/api/admin/maps", { namespace: uniqueName("empty") })).toEqual({ status: 200, body: { maps: [] } });
  });

  it("refuses callers without an admin token", async () => {
    expect((await adminCall(serverUrl(), "/api/admin/maps", { token: null })).status).toBe(401);
    expect((await adminCall(serverUrl(), "/api/admin/maps", { token: await userToken("someone") })).status).toBe(403);
    expect((await adminCall(serverUrl(), "/api/admin/status", { token: null })).status).toBe(401);
    expect((await adminCall(serverUrl(), "/api/admin/status", { token: await userToken("someone") })).status).toBe(403);
  });

  it("reports connections, ops applied and rejected, and HTTP requests of a namespace, and the same as Prometheus metrics to an admin only", async () => {
    const namespace = uniqueName("status");
    await put(namespace, "m", "k", 1);
    const future = { millis: Date.now() + 10 * 60_000, counter: 0, nodeId: "future" };
    const sync = await syncCall(serverUrl(), { clientId: "c", clientHlc: future, operations: [{ id: "late", mapName: "m", key: "x", record: { value: 1, timestamp: future } }] }, { token: await userToken("writer"), namespace });
    expect(sync.status).toBe(200);
    const status = await adminCall(serverUrl(), "/api/admin/status", { namespace });
    expect(status).toEqual({
      status: 200,
      body: {
        namespace, connections: 0, opsApplied: 1, opsRejected: 1, httpSyncRequests: 1, httpApiRequests: 1, writeThrough: false,
        isolateCacheBytes: expect.any(Number), isolateCacheBudgetBytes: 80 * 1024 * 1024,
      },
    });
    // The write's head is in its owner's head index, so the caches of that isolate hold something.
    expect((status.body as { isolateCacheBytes: number }).isolateCacheBytes).toBeGreaterThan(0);

    expect((await fetch(new URL("/metrics", serverUrl()))).status).toBe(401);
    const token = await signToken({ sub: "ops", roles: ["admin"] });
    const response = await fetch(new URL(`/metrics?namespace=${namespace}`, serverUrl()), { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    expect(text).toContain("# TYPE topgun_ops_applied_total counter\n");
    for (const line of ["topgun_connections", "topgun_ops_applied_total", "topgun_ops_rejected_total", "topgun_http_sync_requests_total", "topgun_http_api_requests_total"]) {
      expect(text).toContain(`${line}{namespace="${namespace}"} ${line === "topgun_connections" ? 0 : 1}\n`);
    }
    expect(text).toContain(`topgun_isolate_cache_budget_bytes{namespace="${namespace}"} ${80 * 1024 * 1024}\n`);
    expect(Number(text.match(/^topgun_isolate_cache_bytes\{namespace="[^"]+"\} (\d+)$/m)?.[1])).toBeGreaterThan(0);
  });
});

describe("health", () => {
  it("answers /health, /health/live and /health/ready without a token", async () => {
    for (const path of ["/health", "/health/live", "/health/ready"]) {
      const response = await fetch(new URL(path, serverUrl()));
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ ok: true });
    }
  });
});
