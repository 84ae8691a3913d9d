import { useCallback, useSyncExternalStore } from "react";
import type { ConnectionState } from "../connection.ts";
import { useClient } from "./topgun-provider.tsx";

/** The client's connection state, re-rendered on every change. */
export function useConnectionState(): ConnectionState {
  const client = useClient();
  const subscribe = useCallback(
    (onChange: () => void) => {
      const unsubscribe = client.onConnectionStateChange(onChange);
      return () => void unsubscribe();
    },
    [client],
  );
  const getSnapshot = useCallback(() => client.getConnectionState(), [client]);
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}
