import { useCallback, useMemo, useSyncExternalStore } from "react";
import { entriesSnapshot, isSameList } from "./entries-snapshot.ts";
import { useClient } from "./topgun-provider.tsx";

/** The live entries of the LWW map `name`; re-renders on every local or remote change. */
export function useMap<V = unknown>(name: string): [string, V][] {
  const handle = useClient().getMap<V>(name);
  const subscribe = useCallback((onChange: () => void) => handle.onChange(onChange), [handle]);
  const getSnapshot = useMemo(() => entriesSnapshot(() => handle.entries(), Object.is), [handle]);
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}

/** The live keys of the OR map `name`, each with its values; re-renders on every local or remote change. */
export function useORMap<V = unknown>(name: string): [string, V[]][] {
  const handle = useClient().getORMap<V>(name);
  const subscribe = useCallback((onChange: () => void) => handle.onChange(onChange), [handle]);
  const getSnapshot = useMemo(() => entriesSnapshot(() => handle.entries(), isSameList<V>), [handle]);
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}
