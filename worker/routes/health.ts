import { json } from "itty-router";
import type { RouteGroup } from "./route-group.ts";

/** `GET /health`: the Worker answers. */
export const healthRoutes: RouteGroup = (router) => {
  router.get("/health", () => json({ ok: true, service: "topgun-edge", time: Date.now() }));
};
