import { json } from "itty-router";
import { DEFAULT_NAMESPACE } from "../../core/object-name.ts";
import type { Env } from "../../objects/env.ts";
import { partitionStub } from "../../objects/partition-directory.ts";
import type { RouteGroup } from "./route-group.ts";

/** How long readiness waits for a partition to answer. */
const READY_TIMEOUT_MS = 2_000;

/**
 * `GET /health`: the Worker answers. `/health/live`: always 200 while the Worker runs. `/health/ready`: 200 when a
 * partition object answers a call within 2 s, else 503 (the Worker alone cannot serve data).
 */
export const healthRoutes: RouteGroup = (router) => {
  router
    .get("/health", () => json({ ok: true, service: "topgun-edge", time: Date.now() }))
    .get("/health/live", () => json({ ok: true }))
    .get("/health/ready", async (_request, env) => {
      const ready = await partitionAnswers(env);
      return json({ ok: ready, checks: { partition: ready ? "ok" : "unreachable" } }, { status: ready ? 200 : 503 });
    });
};

async function partitionAnswers(env: Env): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
  });
  try {
    const call = partitionStub(env.PARTITION, DEFAULT_NAMESPACE, 0).ownerStats().then(() => true, () => false);
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
