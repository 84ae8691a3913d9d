import type { IRequest } from "itty-router";
import * as z from "../../core/protocol/zod.ts";
import { httpErrorCode } from "../../core/http-error-code.ts";
import { MAX_BATCH_OPS, MAX_JOURNAL_READ_LIMIT, MAX_QUERY_LIMIT, MAX_SQL_LENGTH } from "../../core/limits.ts";
import { PARTITION_COUNT, partitionOfName, partitionOfShard } from "../../core/placement.ts";
import { counterNameSchema } from "../../core/protocol/counters.ts";
import { sequenceSchema } from "../../core/protocol/journal.ts";
import { mapNameSchema, querySchema, recordKeySchema, sortDirectionSchema } from "../../core/protocol/shared.ts";
import { topicSchema } from "../../core/protocol/topics.ts";
import type { Env } from "../../objects/env.ts";
import type { HttpCall, HttpOutcome } from "../../objects/http/http-call.ts";
import { partitionStub } from "../../objects/partition-directory.ts";
import { authenticateCaller, isRefusal } from "../http-auth.ts";
import { readBody } from "../http-body.ts";
import { openApiDocument } from "./v1-openapi.ts";
import type { RouteGroup } from "./route-group.ts";

/** A `/v1` request read and validated: the call and the partition that runs it; or a 4xx. */
type Prepared = { call: HttpCall; home: number } | Response;

/** A record's value: present and not null (null is a tombstone: DELETE removes a record). */
const recordValue = z.unknown().check(z.refine((v) => v !== undefined && v !== null, { error: "a value is required and may not be null (DELETE removes a record)" }));
const valueBody = z.object({ value: recordValue });
const batchBody = z.object({
  ops: z
    .array(z.union([z.object({ map: mapNameSchema, key: recordKeySchema, delete: z.literal(true) }), z.object({ map: mapNameSchema, key: recordKeySchema, value: recordValue })]))
    .check(z.minLength(1), z.maxLength(MAX_BATCH_OPS)),
});
const orRemoveBody = z.union([z.object({ tag: z.string().check(z.minLength(1), z.maxLength(512)) }), z.object({ value: z.unknown() })]);
const publishBody = z.object({ data: z.unknown() });
const counterBody = z.object({
  delta: z.number().check(z.int(), z.refine((d) => Math.abs(d) <= Number.MAX_SAFE_INTEGER / 2, { error: "delta is too large" })),
});
const sqlBody = z.object({ sql: z.string().check(z.minLength(1), z.maxLength(MAX_SQL_LENGTH)) });
const processBody = z.object({ processor: z.string().check(z.minLength(1), z.maxLength(100)), args: z.optional(z.unknown()) });
const listParams = z.object({
  limit: z.optional(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(MAX_QUERY_LIMIT))),
  cursor: z.optional(z.string()),
  sort: z.optional(z.string()),
  filter: z.optional(z.string()),
  where: z.optional(z.string()),
});
const journalParams = z.object({
  from: z.optional(sequenceSchema),
  limit: z.optional(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(MAX_JOURNAL_READ_LIMIT))),
  map: z.optional(mapNameSchema),
});

/**
 * `/v1`: the JSON API for server-side callers (bearer-authenticated like the WebSocket, under the same access
 * policies). Each route validates its input, picks the home partition (the map's, or the partition of a topic's or
 * counter's name) and hands it one HttpCall; errors are `{error:{code, message}}` with the status.
 */
export const v1Routes: RouteGroup = (router) => {
  const route = (prepare: (request: IRequest) => Promise<Prepared> | Prepared) => async (request: IRequest, env: Env) => {
    const caller = await authenticateCaller(request as Request, env, { anonymous: false });
    if (isRefusal(caller)) return apiError(caller.status, caller.message);
    const prepared = await prepare(request);
    if (prepared instanceof Response) return prepared;
    const outcome = await partitionStub(env.PARTITION, caller.namespace, prepared.home).httpCall({ principal: caller.principal, call: prepared.call });
    return toResponse(outcome);
  };
  router
    .get("/v1/openapi.json", () => Response.json(openApiDocument()))
    .get("/v1/maps/:map/records", route(async (request) => {
      const map = param(request, "map", mapNameSchema);
      if (map instanceof Response) return map;
      const query = listQuery(request);
      return query instanceof Response ? query : { call: { kind: "list", map, query }, home: partitionOfShard(map, 0) };
    }))
    .post("/v1/maps/:map/query", route(async (request) => {
      const map = param(request, "map", mapNameSchema);
      if (map instanceof Response) return map;
      const query = await jsonBody(request, querySchema);
      return query instanceof Response ? query : { call: { kind: "list", map, query }, home: partitionOfShard(map, 0) };
    }))
    .get("/v1/maps/:map/schema", route((request) => {
      const map = param(request, "map", mapNameSchema);
      return map instanceof Response ? map : { call: { kind: "schema", map }, home: partitionOfShard(map, 0) };
    }))
    .get("/v1/maps/:map/records/:key", route((request) => record(request, (map, key) => ({ kind: "get", map, key }))))
    .put("/v1/maps/:map/records/:key", route(async (request) => {
      const body = await jsonBody(request, valueBody);
      return body instanceof Response ? body : record(request, (map, key) => ({ kind: "put", map, key, value: body.value }));
    }))
    .delete("/v1/maps/:map/records/:key", route((request) => record(request, (map, key) => ({ kind: "remove", map, key }))))
    .post("/v1/maps/:map/records/:key/process", route(async (request) => {
      const body = await jsonBody(request, processBody);
      if (body instanceof Response) return body;
      return record(request, (map, key) => ({ kind: "process", map, key, processor: { name: body.processor, ...(body.args === undefined ? {} : { args: body.args }) } }));
    }))
    .post("/v1/batch", route(async (request) => {
      const body = await jsonBody(request, batchBody);
      if (body instanceof Response) return body;
      const first = body.ops[0]?.map ?? "";
      return { call: { kind: "batch", ops: body.ops.map((op) => ("delete" in op ? op : { map: op.map, key: op.key, value: op.value })) }, home: partitionOfShard(first, 0) };
    }))
    .get("/v1/ormaps/:map/records/:key", route((request) => record(request, (map, key) => ({ kind: "orGet", map, key }))))
    .post("/v1/ormaps/:map/records/:key", route(async (request) => {
      const body = await jsonBody(request, valueBody);
      return body instanceof Response ? body : record(request, (map, key) => ({ kind: "orAdd", map, key, value: body.value }));
    }))
    .post("/v1/ormaps/:map/records/:key/remove", route(async (request) => {
      const body = await jsonBody(request, orRemoveBody);
      if (body instanceof Response) return body;
      return record(request, (map, key) => ("tag" in body ? { kind: "orRemove", map, key, tag: body.tag } : { kind: "orRemove", map, key, value: body.value }));
    }))
    .post("/v1/topics/:topic/publish", route(async (request) => {
      const topic = param(request, "topic", topicSchema);
      if (topic instanceof Response) return topic;
      const body = await jsonBody(request, publishBody);
      return body instanceof Response ? body : { call: { kind: "publish", topic, data: body.data ?? null }, home: partitionOfName(topic) };
    }))
    .get("/v1/counters/:name", route((request) => {
      const name = param(request, "name", counterNameSchema);
      return name instanceof Response ? name : { call: { kind: "counterGet", name }, home: partitionOfName(name) };
    }))
    .post("/v1/counters/:name", route(async (request) => {
      const name = param(request, "name", counterNameSchema);
      if (name instanceof Response) return name;
      const body = await jsonBody(request, counterBody);
      // Every change of a counter runs at the partition of its name, which orders them (http-api.ts).
      return body instanceof Response ? body : { call: { kind: "counterAdd", name, delta: body.delta }, home: partitionOfName(name) };
    }))
    .get("/v1/journal", route((request) => {
      const parsed = journalParams.safeParse(Object.fromEntries(new URL(request.url).searchParams));
      if (!parsed.success) return invalid(parsed.error);
      const { from, limit, map } = parsed.data;
      return { call: { kind: "journal", fromSequence: from ?? "0", limit, map }, home: map === undefined ? Math.floor(Math.random() * PARTITION_COUNT) : partitionOfShard(map, 0) };
    }))
    // A SELECT names its map inside the text: any home runs it (the SQL coordinator asks the map's owners).
    .post("/v1/sql", route(async (request) => {
      const body = await jsonBody(request, sqlBody);
      return body instanceof Response ? body : { call: { kind: "sql", sql: body.sql }, home: partitionOfName(body.sql) };
    }))
    .all("/v1/*", () => apiError(404, "no such route"));
};

/** The HTTP answer of an outcome: its JSON body, or `{error:{code, message}}`. */
function toResponse(outcome: HttpOutcome): Response {
  if (!outcome.ok) return apiError(outcome.status, outcome.message);
  return outcome.status === 204 ? new Response(null, { status: 204 }) : Response.json(outcome.body, { status: outcome.status });
}

export function apiError(status: number, message: string): Response {
  return Response.json({ error: { code: httpErrorCode(status), message } }, { status });
}

function record(request: IRequest, build: (map: string, key: string) => HttpCall): Prepared {
  const map = param(request, "map", mapNameSchema);
  if (map instanceof Response) return map;
  const key = param(request, "key", recordKeySchema);
  if (key instanceof Response) return key;
  return { call: build(map, key), home: partitionOfShard(map, 0) };
}

/** A path parameter, URL-decoded and validated. */
function param<T>(request: IRequest, name: string, schema: z.ZodMiniType<T>): T | Response {
  let text: string;
  try {
    text = decodeURIComponent(String(request.params[name] ?? ""));
  } catch {
    return apiError(400, `${name}: not a valid URL-encoded string`);
  }
  const parsed = schema.safeParse(text);
  return parsed.success ? parsed.data : apiError(400, `${name}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
}

/** The JSON body validated by `schema`; 413 over 2 MiB, 400 when it is not JSON or not the expected shape. */
async function jsonBody<T>(request: IRequest, schema: z.ZodMiniType<T>): Promise<T | Response> {
  const bytes = await readBody(request as Request);
  if (bytes === undefined) return apiError(413, "request body exceeds 2 MiB");
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return apiError(400, "the body is not JSON");
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : invalid(parsed.error);
}

/** The query of `GET /v1/maps/{map}/records`: `filter` (a predicate, JSON), `where` (JSON), `sort=a:asc,b:desc`, `limit`, `cursor`. */
function listQuery(request: IRequest): z.infer<typeof querySchema> | Response {
  const parsed = listParams.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) return invalid(parsed.error);
  const { limit, cursor, sort, filter, where } = parsed.data;
  const query: Record<string, unknown> = { ...(limit === undefined ? {} : { limit }), ...(cursor === undefined ? {} : { cursor }) };
  if (sort !== undefined) {
    const spec: Record<string, z.infer<typeof sortDirectionSchema>> = {};
    for (const part of sort.split(",")) {
      const [field = "", direction = "asc"] = part.split(":");
      const dir = sortDirectionSchema.safeParse(direction);
      if (!field || !dir.success) return apiError(400, `sort: expected field:asc or field:desc, got ${JSON.stringify(part)}`);
      spec[field] = dir.data;
    }
    query.sort = spec;
  }
  for (const [name, field, text] of [["filter", "predicate", filter], ["where", "where", where]] as const) {
    if (text === undefined) continue;
    try {
      query[field] = JSON.parse(text);
    } catch {
      return apiError(400, `${name}: not JSON`);
    }
  }
  const checked = querySchema.safeParse(query);
  return checked.success ? checked.data : invalid(checked.error);
}

function invalid(error: z.core.$ZodError): Response {
  const issue = error.issues[0];
  return apiError(400, issue ? `${issue.path.join(".") || "body"}: ${issue.message}` : "invalid request");
}
