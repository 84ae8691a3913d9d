import { Router, error, type IRequest } from "itty-router";
import type { Env } from "../objects/env.ts";
import { authenticateAdmin } from "./admin-auth.ts";
import { adminError } from "./admin-error.ts";
import { adminPolicyRoutes } from "./routes/admin-policies.ts";
import { adminSchemaRoutes } from "./routes/admin-schemas.ts";
import { healthRoutes } from "./routes/health.ts";
import { labAssetRoutes } from "./routes/lab-assets.ts";
import type { WorkerRouter } from "./routes/route-group.ts";
import { statsRoutes } from "./routes/stats.ts";
import { syncRoutes } from "./routes/sync.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { adminNamespaceRoutes } from "./routes/admin-namespace.ts";
import { adminMapRoutes } from "./routes/admin-maps.ts";
import { v1Routes } from "./routes/v1.ts";
import { websocketRoutes } from "./routes/websocket.ts";

/** The router Worker: wires the route groups (worker/routes/), in order; the Sync Lab's catch-all GET comes last. */
export function createRouter(): WorkerRouter {
  // Plain Router (no withParams proxy): the WebSocket upgrade forwards the original Request object to the object.
  const router: WorkerRouter = Router<IRequest, [Env, ExecutionContext]>({
    catch: (err: unknown) => {
      console.error("[worker] unhandled error", err);
      return error(500, "internal error");
    },
  });
  for (const group of [healthRoutes, statsRoutes, metricsRoutes, adminPolicyRoutes, adminSchemaRoutes, adminNamespaceRoutes, adminMapRoutes, syncRoutes, v1Routes, websocketRoutes]) group(router);
  // Unknown admin routes: authenticated first, so an anonymous caller learns nothing about the plane.
  router.all("/api/admin/*", async (request, env) => {
    const call = await authenticateAdmin(request as Request, env);
    return call instanceof Response ? call : adminError(404, "not found");
  });
  labAssetRoutes(router);
  router.all("*", () => error(404, "not found"));
  return router;
}
