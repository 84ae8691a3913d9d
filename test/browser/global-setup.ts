// The browser tests' shared setup: Debian's Chromium (installed with apt when missing) and one local server
// without authentication, as `npm start` runs it. The server's wrangler [build] step builds the Sync Lab page.
import type { TestProject } from "vitest/node";
import { ensureChromium } from "../support/chromium.ts";
import { startServer } from "../support/server-harness.ts";

declare module "vitest" {
  export interface ProvidedContext {
    labServerUrl: string;
    chromiumPath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [chromiumPath, server] = await Promise.all([ensureChromium(), startServer({ noAuth: true })]);
  project.provide("chromiumPath", chromiumPath);
  project.provide("labServerUrl", server.url);
  return () => server.stop();
}
