// What every end-to-end test file shares: the global server's URL, authenticated clients that are closed
// after each test, and unique names so that tests never see each other's data.
import { randomUUID } from "node:crypto";
import { afterEach, inject } from "vitest";
import { webSocketUrl } from "./server-harness.ts";
import { signToken } from "./tokens.ts";
import { TestClient } from "./ws-client.ts";

/** The URL of the server started by test/e2e/global-setup.ts. */
export function serverUrl(): string {
  return inject("serverUrl");
}

/** A name no other test uses (map names, client ids, keys). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * Opens clients for one test file and closes them after each test. `baseUrl` defaults to the global server.
 */
export function clientPool(baseUrl: () => string = serverUrl) {
  const open = new Set<TestClient>();
  afterEach(() => {
    for (const client of open) client.close();
    open.clear();
  });
  return {
    /** A socket that has not authenticated (it has received AUTH_REQUIRED or will). */
    async raw(params: Record<string, string> = {}): Promise<TestClient> {
      const client = await TestClient.connect(webSocketUrl(baseUrl(), params), { autoAuth: false });
      open.add(client);
      return client;
    },
    /** A socket authenticated as `user` (a fresh unique user when absent). */
    async authed(params: Record<string, string> = {}, user: string = uniqueName("user")): Promise<TestClient> {
      const token = await signToken({ sub: user });
      const client = await TestClient.connect(webSocketUrl(baseUrl(), params), { token });
      open.add(client);
      return client;
    },
  };
}
