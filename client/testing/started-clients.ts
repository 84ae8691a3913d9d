import { afterEach } from "vitest";
import { MemoryAdapter } from "../storage/memory-adapter.ts";
import type { StorageAdapter } from "../storage/storage-adapter.ts";
import { TopGunClient } from "../topgun-client.ts";
import type { FakeServer } from "./fake-server.ts";

/**
 * For a test file: `startClient(server)` starts a TopGunClient on the fake server (memory storage unless given,
 * a 5 ms backoff); every client started is closed after each test.
 */
export function startedClients(): (server: FakeServer, storage?: StorageAdapter) => Promise<TopGunClient> {
  const open: TopGunClient[] = [];
  afterEach(async () => {
    await Promise.all(open.map((client) => client.close()));
    open.length = 0;
  });
  return async (server, storage = new MemoryAdapter()) => {
    const client = new TopGunClient({ serverUrl: "ws://server.test", storage, webSocketFactory: server.factory, backoff: { initialMs: 5 } });
    open.push(client);
    await client.start();
    return client;
  };
}
