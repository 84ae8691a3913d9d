import * as z from "../../core/protocol/zod.ts";
import type { AccessPolicy } from "../../core/access-policy.ts";
import { ConditionSyntaxError, parseCondition } from "../../core/condition-expr.ts";
import { MAX_MAP_NAME_LENGTH } from "../../core/limits.ts";
import { predicateNodeSchema } from "../../core/protocol/shared.ts";
import { controlApi } from "../../objects/control/control.ts";
import type { Env } from "../../objects/env.ts";
import { adminError } from "../admin-error.ts";
import { authenticateAdmin } from "../admin-auth.ts";
import type { RouteGroup } from "./route-group.ts";

/** Most policies a namespace keeps: each one is read on every op. */
export const MAX_POLICIES = 1_000;

const policyBodySchema = z.object({
  id: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  mapPattern: z.string().check(z.minLength(1), z.maxLength(MAX_MAP_NAME_LENGTH)),
  action: z.enum(["read", "write", "remove", "all"]),
  effect: z.enum(["allow", "deny"]),
  condition: z.optional(predicateNodeSchema),
  conditionExpr: z.optional(z.string().check(z.maxLength(4_096))),
});

/** `/api/admin/policies[/{id}]`: a namespace's access policies, stored in its control object. */
export const adminPolicyRoutes: RouteGroup = (router) => {
  router
    .get("/api/admin/policies", async (request, env) => {
      const call = await authenticateAdmin(request as Request, env);
      if (call instanceof Response) return call;
      return Response.json({ policies: await control(env, call.namespace)?.listPolicies() ?? [] });
    })
    .get("/api/admin/policies/:id", async (request, env) => {
      const call = await authenticateAdmin(request as Request, env);
      if (call instanceof Response) return call;
      const policy = await control(env, call.namespace)?.getPolicy(String(request.params.id));
      return policy ? Response.json(policy) : adminError(404, "no such policy");
    })
    .post("/api/admin/policies", async (request, env) => {
      const call = await authenticateAdmin(request as Request, env);
      if (call instanceof Response) return call;
      const store = control(env, call.namespace);
      if (!store) return adminError(503, "policy store not configured");
      const parsed = await readPolicy(request as Request);
      if (parsed instanceof Response) return parsed;
      if (!(await store.canStorePolicy(parsed.id, MAX_POLICIES))) return adminError(409, `at most ${MAX_POLICIES} policies`);
      return Response.json(await store.putPolicy(parsed), { status: 201 });
    })
    .delete("/api/admin/policies/:id", async (request, env) => {
      const call = await authenticateAdmin(request as Request, env);
      if (call instanceof Response) return call;
      await control(env, call.namespace)?.deletePolicy(String(request.params.id));
      return new Response(null, { status: 204 });
    });
};

function control(env: Env, namespace: string) {
  return env.CONTROL ? controlApi(env.CONTROL, namespace) : undefined;
}

/** The request body as a policy: `condition` wins over `conditionExpr`; a bad expression points at its error. */
async function readPolicy(request: Request): Promise<AccessPolicy | Response> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return adminError(400, "the body is not JSON");
  }
  const parsed = policyBodySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return adminError(400, issue?.message ?? "invalid policy", issue?.path.join(".") || undefined);
  }
  const { id, mapPattern, action, effect, condition, conditionExpr } = parsed.data;
  const policy: AccessPolicy = { id: id ?? crypto.randomUUID(), mapPattern, action, effect };
  if (condition !== undefined) return { ...policy, condition };
  if (conditionExpr === undefined) return policy;
  try {
    return { ...policy, condition: parseCondition(conditionExpr), conditionExpr };
  } catch (err) {
    if (err instanceof ConditionSyntaxError) return adminError(400, `conditionExpr: ${err.message}`, "conditionExpr");
    throw err;
  }
}
