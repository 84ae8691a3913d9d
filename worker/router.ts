import { AutoRouter, error, json, type IRequest } from "itty-router";
import type { Env } from "../objects/env.ts";
import { chooseHomePartition, readNamespace } from "./home-partition.ts";
import { partitionStub } from "../objects/partition-directory.ts";

/** The router Worker: maps requests to Partition objects and holds no state. */
export function createRouter() {
  const router = AutoRouter<IRequest, [Env, ExecutionContext]>({
    catch: (err: unknown) => {
      console.error("[worker] unhandled error", err);
      return error(500, "internal error");
    },
  });
  router.get("/health", () => json({ ok: true, service: "topgun-edge", time: Date.now() }));
  const upgrade = (request: IRequest, env: Env) => {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return error(426, "expected a WebSocket upgrade");
    }
    const url = new URL(request.url);
    const namespace = readNamespace(url);
    if (namespace === undefined) return error(400, "invalid namespace");
    const home = chooseHomePartition(url);
    return partitionStub(env, namespace, home).fetch(request);
  };
  router.get("/ws", upgrade);
  router.get("/", upgrade);
  return router;
}
