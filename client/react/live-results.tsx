import { useEffect, useState } from "react";

/** What a live query or search shows: its latest results, and whether the server has answered yet. */
export interface LiveResults<T> {
  results: T[];
  loading: boolean;
}

/** The part of QueryHandle and SearchHandle the hooks use. */
interface LiveHandle<T> {
  subscribe(listener: (results: T[]) => void): () => void;
  close(): void;
  /** True once the server answered (a query also calls listeners for local changes before that). */
  readonly settled?: boolean;
}

/**
 * Opens a live handle in an effect (opening sends a subscribe frame, so not during render) and closes it on
 * unmount or when `key` changes. A handle with `settled` says itself when the server answered; the others call
 * a listener once at once with what they hold, then only for server answers, so `loading` ends at the second call.
 */
export function useLiveResults<T>(open: () => LiveHandle<T>, key: string): LiveResults<T> {
  const [state, setState] = useState<LiveResults<T> & { key: string }>({ key, results: [], loading: true });
  useEffect(() => {
    const handle = open();
    let answered = false;
    const unsubscribe = handle.subscribe((results) => {
      setState({ key, results, loading: handle.settled === undefined ? !answered : !handle.settled });
      answered = true;
    });
    return () => {
      unsubscribe();
      handle.close();
    };
    // `open` is a new function each render; `key` names everything it depends on.
  }, [key]);
  // Until the effect for a new key runs, the state still holds the old key's results.
  return state.key === key ? { results: state.results, loading: state.loading } : { results: [], loading: true };
}
