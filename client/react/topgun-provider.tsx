import { createContext, createElement, useContext, type ReactNode } from "react";
import type { TopGunClient } from "../topgun-client.ts";

const ClientContext = createContext<TopGunClient | undefined>(undefined);

export interface TopGunProviderProps {
  /** A started client (`await client.start()` first): hooks open maps and topics while rendering. */
  client: TopGunClient;
  children?: ReactNode;
}

/** Makes `client` available to the TopGun hooks below it. The app owns the client and closes it. */
export function TopGunProvider({ client, children }: TopGunProviderProps): ReactNode {
  return createElement(ClientContext.Provider, { value: client }, children);
}

/** The client of the nearest TopGunProvider; throws when there is none. */
export function useClient(): TopGunClient {
  const client = useContext(ClientContext);
  if (client === undefined) throw new Error("TopGun hooks must be used inside <TopGunProvider client={...}>");
  return client;
}
