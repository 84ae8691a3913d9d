// The OpenAPI 3.1 description of `/v1` (served at /v1/openapi.json). worker/routes/v1-openapi.test.ts checks that
// every route it lists exists in the router and every `/v1` route of the router is listed here.

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const pathParam = (name: string, description: string): Json => ({ name, in: "path", required: true, description, schema: { type: "string" } });
const queryParam = (name: string, description: string, schema: Json = { type: "string" }): Json => ({ name, in: "query", required: false, description, schema });
const jsonContent = (schema: Json): Json => ({ "application/json": { schema } });
const body = (schema: Json): Json => ({ required: true, content: jsonContent(schema) });
const ok = (description: string, schema: Json): Json => ({ description, content: jsonContent(schema) });

const MAP = pathParam("map", "map name");
const KEY = pathParam("key", "record key (URL-encoded)");
const NAMESPACE = queryParam("namespace", "the tenant (default `default`)");

/** The error answers every data route may give. */
const ERRORS: Json = Object.fromEntries(
  [
    ["400", "invalid input, or a value that breaks the map's JSON Schema (the message names the path and rule)"],
    ["401", "missing or invalid bearer token"],
    ["403", "denied by an access policy"],
    ["413", "request body over 2 MiB, or a value over 1 MiB"],
    ["429", "the caller's op budget is spent; retry later"],
  ].map(([status, description]) => [status, { description, content: jsonContent(ref("Error")) }]),
);

function operation(summary: string, responses: Json, extra: Json = {}): Json {
  const { parameters, ...rest } = extra;
  return { summary, parameters: [NAMESPACE, ...(Array.isArray(parameters) ? parameters : [])], ...rest, responses: { ...responses, ...ERRORS } };
}

export function openApiDocument(): Json {
  return {
    openapi: "3.1.0",
    info: {
      title: "TopGun Edge HTTP API",
      version: "1.0.0",
      description: "Records, OR-Maps, topics, counters, entry processors and the journal for server-side callers. Every route runs under the same access policies as the WebSocket.",
    },
    security: [{ bearer: [] }],
    paths: {
      "/v1/openapi.json": { get: { summary: "this document", security: [], responses: { "200": ok("the OpenAPI document", { type: "object" }) } } },
      "/v1/maps/{map}/records": {
        get: operation("list a map's records", { "200": ok("a page of records", ref("RecordPage")) }, {
          parameters: [
            MAP,
            queryParam("filter", "a predicate (JSON), e.g. {\"op\":\"gt\",\"attribute\":\"age\",\"value\":30}"),
            queryParam("where", "an equality map (JSON), e.g. {\"done\":false}"),
            queryParam("sort", "field:asc or field:desc, comma-separated"),
            queryParam("limit", "most records in the page", { type: "integer", minimum: 0, maximum: 10000 }),
            queryParam("cursor", "nextCursor of the previous page"),
          ],
        }),
      },
      "/v1/maps/{map}/query": {
        post: operation("query a map's records", { "200": ok("a page of records", ref("RecordPage")) }, { parameters: [MAP], requestBody: body(ref("Query")) }),
      },
      "/v1/maps/{map}/schema": {
        get: operation("read a map's JSON Schema (set through the admin API; needs read access to the map)", {
          "200": ok("the schema and its version", { type: "object", required: ["map", "version", "schema"], properties: { map: { type: "string" }, version: { type: "integer" }, schema: {} } }),
          "404": { description: "the map has no schema", content: jsonContent(ref("Error")) },
        }, { parameters: [MAP] }),
      },
      "/v1/maps/{map}/records/{key}": {
        get: operation("read one record", { "200": ok("the record", ref("Record")), "404": { description: "no such record", content: jsonContent(ref("Error")) } }, { parameters: [MAP, KEY] }),
        put: operation("write one record (server-stamped HLC)", { "200": ok("the written record", ref("WrittenRecord")), "409": { description: "the write lost to the clock rules", content: jsonContent(ref("Error")) } }, {
          parameters: [MAP, KEY],
          requestBody: body({ type: "object", required: ["value"], properties: { value: {} } }),
        }),
        delete: operation("delete one record (a tombstone that syncs)", { "204": { description: "deleted" } }, { parameters: [MAP, KEY] }),
      },
      "/v1/maps/{map}/records/{key}/process": {
        post: operation("run a built-in entry processor on a record", { "200": ok("the processor's result", { type: "object", properties: { result: {}, newValue: {} } }) }, {
          parameters: [MAP, KEY],
          requestBody: body({ type: "object", required: ["processor"], properties: { processor: { type: "string", examples: ["increment"] }, args: {} } }),
        }),
      },
      "/v1/batch": {
        post: operation("write several records (puts and deletes) in one batch", { "200": ok("one result per op, in order", ref("BatchResults")) }, {
          requestBody: body({
            type: "object",
            required: ["ops"],
            properties: {
              ops: {
                type: "array",
                maxItems: 2000,
                items: {
                  oneOf: [
                    { type: "object", required: ["map", "key", "value"], properties: { map: { type: "string" }, key: { type: "string" }, value: {} } },
                    { type: "object", required: ["map", "key", "delete"], properties: { map: { type: "string" }, key: { type: "string" }, delete: { const: true } } },
                  ],
                },
              },
            },
          }),
        }),
      },
      "/v1/ormaps/{map}/records/{key}": {
        get: operation("read an OR-Map key's values with their tags", { "200": ok("the values", { type: "object", properties: { key: { type: "string" }, values: { type: "array", items: { type: "object", properties: { value: {}, tag: { type: "string" } } } } } }) }, { parameters: [MAP, KEY] }),
        post: operation("add a value to an OR-Map key", { "201": ok("the added value and its tag", { type: "object", properties: { key: { type: "string" }, value: {}, tag: { type: "string" } } }) }, {
          parameters: [MAP, KEY],
          requestBody: body({ type: "object", required: ["value"], properties: { value: {} } }),
        }),
      },
      "/v1/ormaps/{map}/records/{key}/remove": {
        post: operation("remove a value (every tag holding it) or one tag from an OR-Map key", { "200": ok("the removed tags", { type: "object", properties: { removed: { type: "array", items: { type: "string" } } } }) }, {
          parameters: [MAP, KEY],
          requestBody: body({ oneOf: [{ type: "object", required: ["tag"], properties: { tag: { type: "string" } } }, { type: "object", required: ["value"], properties: { value: {} } }] }),
        }),
      },
      "/v1/topics/{topic}/publish": {
        post: operation("publish a message to a topic", { "204": { description: "published" } }, {
          parameters: [pathParam("topic", "topic name")],
          requestBody: body({ type: "object", properties: { data: {} } }),
        }),
      },
      "/v1/counters/{name}": {
        get: operation("read a PN counter", { "200": ok("the counter", ref("Counter")) }, { parameters: [pathParam("name", "counter name")] }),
        post: operation("add to (or, negative, subtract from) a PN counter", { "200": ok("the counter after the change", ref("Counter")) }, {
          parameters: [pathParam("name", "counter name")],
          requestBody: body({ type: "object", required: ["delta"], properties: { delta: { type: "integer" } } }),
        }),
      },
      "/v1/sql": {
        post: operation(
          "run a SELECT over one map (WHERE, ORDER BY, LIMIT/OFFSET, GROUP BY with count/sum/min/max/avg, HAVING, aliases)",
          { "200": ok("the columns in select-list order and the rows", { type: "object", required: ["columns", "rows"], properties: { columns: { type: "array", items: { type: "string" } }, rows: { type: "array", items: { type: "array" } } } }) },
          { requestBody: body({ type: "object", required: ["sql"], properties: { sql: { type: "string", maxLength: 16384 } } }) },
        ),
      },
      "/v1/journal": {
        get: operation("read the event journal", { "200": ok("events from the sequence on", { type: "object", properties: { events: { type: "array", items: { type: "object" } }, hasMore: { type: "boolean" } } }) }, {
          parameters: [
            queryParam("from", "first sequence (default 0)"),
            queryParam("limit", "most events (default 100)", { type: "integer", minimum: 0, maximum: 1000 }),
            queryParam("map", "only this map's events"),
          ],
        }),
      },
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: { error: { type: "object", required: ["code", "message"], properties: { code: { type: "string", examples: ["forbidden"] }, message: { type: "string" } } } },
        },
        Record: { type: "object", required: ["key", "value"], properties: { key: { type: "string" }, value: {} } },
        WrittenRecord: { type: "object", properties: { key: { type: "string" }, value: {}, timestamp: ref("Timestamp") } },
        Timestamp: { type: "object", properties: { millis: { type: "integer" }, counter: { type: "integer" }, nodeId: { type: "string" } } },
        RecordPage: { type: "object", required: ["records", "hasMore"], properties: { records: { type: "array", items: ref("Record") }, hasMore: { type: "boolean" }, nextCursor: { type: "string" } } },
        Query: {
          type: "object",
          properties: {
            where: { type: "object" },
            predicate: { type: "object", description: "the query predicate language: {op, attribute, value} and/or/not with children" },
            sort: { type: "object", additionalProperties: { enum: ["asc", "desc"] } },
            limit: { type: "integer" },
            cursor: { type: "string" },
          },
        },
        BatchResults: {
          type: "object",
          properties: { results: { type: "array", items: { type: "object", properties: { ok: { type: "boolean" }, error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" } } } } } } },
        },
        Counter: { type: "object", properties: { name: { type: "string" }, value: { type: "number" }, state: { type: "object", properties: { p: { type: "object" }, n: { type: "object" } } } } },
      },
    },
  };
}
