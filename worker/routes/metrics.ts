import type { IRequest } from "itty-router";
import type { Env } from "../../objects/env.ts";
import { authenticateAdmin, isNoAuth } from "../admin-auth.ts";
import { adminError } from "../admin-error.ts";
import { readNamespace } from "../home-partition.ts";
import { namespaceStatus, type NamespaceStatus } from "../namespace-status.ts";
import { PROMETHEUS_CONTENT_TYPE, prometheusText, type MetricFamily } from "../prometheus-text.ts";
import type { RouteGroup } from "./route-group.ts";

/**
 * `GET /metrics?namespace=`: the namespace's state in the Prometheus text format. Admin-only, except in no-auth mode
 * (local development), like `/stats`. Each scrape asks the namespace's 271 partitions; counters count since each
 * object last started.
 */
export const metricsRoutes: RouteGroup = (router) => {
  router.get("/metrics", async (request, env) => {
    const namespace = await scrapedNamespace(request, env);
    if (namespace instanceof Response) return namespace;
    const status = await namespaceStatus(env, namespace);
    return new Response(prometheusText(families(status)), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } });
  });
};

async function scrapedNamespace(request: IRequest, env: Env): Promise<string | Response> {
  if (isNoAuth(env)) return readNamespace(new URL(request.url)) ?? adminError(400, "invalid namespace", "namespace");
  const call = await authenticateAdmin(request as Request, env);
  return call instanceof Response ? call : call.namespace;
}

function families(status: NamespaceStatus): MetricFamily[] {
  const labels = { namespace: status.namespace };
  const one = (name: string, help: string, type: MetricFamily["type"], value: number): MetricFamily => ({ name, help, type, samples: [{ labels, value }] });
  const list = [
    one("topgun_connections", "WebSocket connections open at the namespace's partitions.", "gauge", status.connections),
    one("topgun_ops_applied_total", "Ops applied (WebSocket and HTTP), since each partition last started.", "counter", status.opsApplied),
    one("topgun_ops_rejected_total", "Ops rejected (denied, too far ahead, invalid), since each partition last started.", "counter", status.opsRejected),
    one("topgun_http_sync_requests_total", "POST /sync requests, since each partition last started.", "counter", status.httpSyncRequests),
    one("topgun_http_api_requests_total", "/v1 requests that reached a partition, since each partition last started.", "counter", status.httpApiRequests),
    one("topgun_isolate_cache_bytes", "Estimated bytes of the in-memory caches of the fullest isolate running the namespace's partitions.", "gauge", status.isolateCacheBytes),
    one("topgun_isolate_cache_budget_bytes", "The bytes each isolate keeps its in-memory caches under.", "gauge", status.isolateCacheBudgetBytes),
  ];
  if (status.outboxDepth !== undefined) {
    list.push(one("topgun_outbox_depth", "Changes waiting in the outboxes for Postgres.", "gauge", status.outboxDepth));
    list.push(one("topgun_outbox_lag_seconds", "Age of the oldest change waiting for Postgres.", "gauge", (status.lagMs ?? 0) / 1000));
  }
  return list;
}
