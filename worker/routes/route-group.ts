import type { IRequest, RouterType } from "itty-router";
import type { Env } from "../../objects/env.ts";

/** The router every route group adds its routes to. */
export type WorkerRouter = RouterType<IRequest, [Env, ExecutionContext]>;

/** A group of routes (one module under worker/routes/): adds its routes to the router. */
export type RouteGroup = (router: WorkerRouter) => void;
