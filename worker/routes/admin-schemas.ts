import type { IRequest } from "itty-router";
import { MAX_SCHEMA_BYTES, MAX_SCHEMAS } from "../../core/limits.ts";
import { checkSchema, type JsonSchema } from "../../core/map-schema.ts";
import { mapNameSchema } from "../../core/protocol/shared.ts";
import { controlApi } from "../../objects/control/control.ts";
import type { Env } from "../../objects/env.ts";
import { adminError } from "../admin-error.ts";
import { authenticateAdmin } from "../admin-auth.ts";
import { readBody } from "../http-body.ts";
import type { RouteGroup } from "./route-group.ts";

/**
 * `/api/admin/schemas[/{map}]`: each map's JSON Schema, stored in the namespace's control object. Every write path
 * refuses a value that breaks it; partitions see a change within about a second.
 */
export const adminSchemaRoutes: RouteGroup = (router) => {
  router
    .get("/api/admin/schemas", async (request, env) => {
      const call = await authenticateAdmin(request as Request, env);
      if (call instanceof Response) return call;
      return Response.json({ schemas: (await control(env, call.namespace)?.listSchemas()) ?? [] });
    })
    .get("/api/admin/schemas/:map", async (request, env) => {
      const call = await authenticateAdmin(request as Request, env);
      if (call instanceof Response) return call;
      const map = mapParam(request);
      if (map instanceof Response) return map;
      const schema = await control(env, call.namespace)?.getSchema(map);
      return schema ? Response.json(schema) : adminError(404, `map ${map} has no schema`);
    })
    .put("/api/admin/schemas/:map", async (request, env) => {
      const call = await authenticateAdmin(request as Request, env);
      if (call instanceof Response) return call;
      const map = mapParam(request);
      if (map instanceof Response) return map;
      const store = control(env, call.namespace);
      if (!store) return adminError(503, "schema store not configured");
      const schema = await readSchema(request as Request);
      if (schema instanceof Response) return schema;
      const stored = await store.putSchema(map, schema, MAX_SCHEMAS);
      return stored ? Response.json(stored) : adminError(409, `at most ${MAX_SCHEMAS} maps with a schema`);
    })
    .delete("/api/admin/schemas/:map", async (request, env) => {
      const call = await authenticateAdmin(request as Request, env);
      if (call instanceof Response) return call;
      const map = mapParam(request);
      if (map instanceof Response) return map;
      const deleted = await control(env, call.namespace)?.deleteSchema(map);
      return deleted ? new Response(null, { status: 204 }) : adminError(404, `map ${map} has no schema`);
    });
};

function control(env: Env, namespace: string) {
  return env.CONTROL ? controlApi(env.CONTROL, namespace) : undefined;
}

function mapParam(request: IRequest): string | Response {
  let text: string;
  try {
    text = decodeURIComponent(String(request.params.map ?? ""));
  } catch {
    return adminError(400, "map: not a valid URL-encoded string", "map");
  }
  const parsed = mapNameSchema.safeParse(text);
  return parsed.success ? parsed.data : adminError(400, `map: ${parsed.error.issues[0]?.message ?? "invalid"}`, "map");
}

/** The body as a JSON Schema: at most MAX_SCHEMA_BYTES, JSON, and a schema this server can enforce. */
async function readSchema(request: Request): Promise<JsonSchema | Response> {
  const bytes = await readBody(request);
  if (bytes === undefined || bytes.byteLength > MAX_SCHEMA_BYTES) return adminError(413, `a schema is at most ${MAX_SCHEMA_BYTES} bytes of JSON`);
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return adminError(400, "the body is not JSON");
  }
  const checked = checkSchema(body);
  return checked.ok ? checked.schema : adminError(400, `not a valid JSON Schema: ${checked.problem}`, "schema");
}
