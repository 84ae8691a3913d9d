import { createRouter } from "./router.ts";
import type { Env } from "../objects/env.ts";

export { Partition } from "../objects/partition.ts";
export { Control } from "../objects/control/control.ts";

const router = createRouter();

export default {
  fetch: (request: Request, env: Env, ctx: ExecutionContext) => router.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
