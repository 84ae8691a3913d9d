import { useCallback, useSyncExternalStore } from "react";
import { useClient } from "./topgun-provider.tsx";

export interface PNCounterState {
  value: number;
  increment: (by?: number) => void;
  decrement: (by?: number) => void;
}

/** The PN counter `name`: its current value, re-rendered on local and merged remote changes. */
export function usePNCounter(name: string): PNCounterState {
  const counter = useClient().getPNCounter(name);
  const subscribe = useCallback((onChange: () => void) => counter.subscribe(onChange), [counter]);
  const getSnapshot = useCallback(() => counter.get(), [counter]);
  const value = useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
  const increment = useCallback((by?: number) => void counter.increment(by), [counter]);
  const decrement = useCallback((by?: number) => void counter.decrement(by), [counter]);
  return { value, increment, decrement };
}
