// Real TopGunClients for end-to-end tests: started against the local server, connected, and closed after each test.
import { afterEach, expect, vi } from "vitest";
import { MemoryAdapter } from "../../client/storage/memory-adapter.ts";
import { TopGunClient } from "../../client/topgun-client.ts";
import type { WebSocketFactory } from "../../client/web-socket.ts";
import { serverUrl, uniqueName } from "./e2e-context.ts";
import { signToken } from "./tokens.ts";

/** How long a test waits for a client to reach a state (polling every 50 ms). */
export const CLIENT_WAIT = { timeout: 20_000, interval: 50 };

export interface ClientOptions {
  /** The server (the shared one by default); `namespace` is added to its query. */
  url?: string;
  namespace?: string;
  /** The token's subject (a fresh unique user by default). */
  user?: string;
  /** The sockets the client opens (a counting or cuttable one; the runtime's WebSocket by default). */
  webSocketFactory?: WebSocketFactory;
}

/** A pool for one test file: `connected()` starts a client and waits until it is CONNECTED; all close after each test. */
export function clientPool() {
  const open = new Set<TopGunClient>();
  afterEach(async () => {
    await Promise.all([...open].map((client) => client.close()));
    open.clear();
  });
  return {
    async connected(options: ClientOptions = {}): Promise<TopGunClient> {
      const url = new URL(options.url ?? serverUrl());
      if (options.namespace !== undefined) url.searchParams.set("namespace", options.namespace);
      const user = options.user ?? uniqueName("user");
      const client = new TopGunClient({
        serverUrl: url.toString(),
        storage: new MemoryAdapter(),
        tokenProvider: () => signToken({ sub: user }),
        backoff: { initialMs: 50, maxMs: 500 },
        ...(options.webSocketFactory ? { webSocketFactory: options.webSocketFactory } : {}),
      });
      open.add(client);
      await client.start();
      await vi.waitFor(() => expect(client.getConnectionState()).toBe("CONNECTED"), CLIENT_WAIT);
      return client;
    },
  };
}
