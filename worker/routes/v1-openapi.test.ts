import { Router, type IRequest } from "itty-router";
import { describe, expect, it } from "vitest";
import type { Env } from "../../objects/env.ts";
import { openApiDocument } from "./v1-openapi.ts";
import type { WorkerRouter } from "./route-group.ts";
import { v1Routes } from "./v1.ts";

/** Every `METHOD /path` of the `/v1` routes, with `:param` written `{param}` as OpenAPI does (the catch-all left out). */
function routerOperations(): string[] {
  const router: WorkerRouter = Router<IRequest, [Env, ExecutionContext]>();
  v1Routes(router);
  return router.routes
    .map(([method, , , path]) => `${String(method)} ${String(path).replace(/:(\w+)/g, "{$1}")}`)
    .filter((op) => !op.endsWith("*"))
    .sort();
}

function documentOperations(): string[] {
  const paths = openApiDocument().paths;
  if (typeof paths !== "object" || paths === null) throw new Error("the document has no paths");
  return Object.entries(paths)
    .flatMap(([path, item]) => Object.keys(typeof item === "object" && item !== null ? item : {}).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

describe("the OpenAPI document of /v1", () => {
  it("lists every /v1 route of the router, and only those", () => {
    expect(documentOperations()).toEqual(routerOperations());
    expect(routerOperations().length).toBeGreaterThanOrEqual(14);
  });

  it("is OpenAPI 3.1 with bearer security and a JSON error schema", () => {
    const doc = openApiDocument();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.components).toMatchObject({ securitySchemes: { bearer: { type: "http", scheme: "bearer" } }, schemas: { Error: { required: ["error"] } } });
  });
});
