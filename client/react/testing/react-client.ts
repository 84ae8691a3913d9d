// Shared set-up for the React hook tests: a real TopGunClient on MemoryAdapter, talking to the fake server.
import { cleanup } from "@testing-library/react";
import { createElement, type ReactNode } from "react";
import { FakeServer } from "../../testing/fake-server.ts";
import { MemoryAdapter } from "../../storage/memory-adapter.ts";
import { TopGunClient } from "../../topgun-client.ts";
import { TopGunProvider } from "../topgun-provider.tsx";

const open: TopGunClient[] = [];

/** Unmounts every rendered tree, then closes every client started by the test. Call from afterEach. */
export async function cleanUpReact(): Promise<void> {
  cleanup();
  await Promise.all(open.map((client) => client.close()));
  open.length = 0;
}

/** A started client whose sockets land on `server`. */
export async function startClient(server = new FakeServer()): Promise<TopGunClient> {
  const client = new TopGunClient({ serverUrl: "ws://server.test", storage: new MemoryAdapter(), webSocketFactory: server.factory, backoff: { initialMs: 5 } });
  open.push(client);
  await client.start();
  return client;
}

/** A renderHook wrapper that provides `client`. */
export function providing(client: TopGunClient): (props: { children: ReactNode }) => ReactNode {
  return ({ children }) => createElement(TopGunProvider, { client }, children);
}
