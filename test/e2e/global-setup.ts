// Starts the one server the end-to-end tests share (tests that need other settings start their own).
import type { TestProject } from "vitest/node";
import { E2E_JWT_SECRET, SHARDED_MAP, SHARDED_MAP_SHARDS } from "../support/e2e-config.ts";
import { startServer } from "../support/server-harness.ts";

declare module "vitest" {
  export interface ProvidedContext {
    serverUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startServer({ jwtSecret: E2E_JWT_SECRET, shardedMaps: `${SHARDED_MAP}:${SHARDED_MAP_SHARDS}` });
  project.provide("serverUrl", server.url);
  return () => server.stop();
}
