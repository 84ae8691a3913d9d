import type { Query, SearchOptions } from "../../core/protocol/shared.ts";
import type { SearchHit } from "../search-handle.ts";
import { useLiveResults, type LiveResults } from "./live-results.tsx";
import { useClient } from "./topgun-provider.tsx";

/** What useQuery returns: `[key, value]` results, and `loading` until the server's first answer. */
export type QueryState<V> = LiveResults<[string, V]>;

/** What useSearch returns: hits best first, and `loading` until the server's first answer. */
export type SearchState = LiveResults<SearchHit>;

/**
 * A live server query on the LWW map `mapName`; `{}` matches everything. Subscribes on mount and again when
 * `mapName` or the query's contents change (a new object with the same contents does not resubscribe);
 * sends QUERY_UNSUB on unmount.
 */
export function useQuery<V = unknown>(mapName: string, query: Query = {}): QueryState<V> {
  const client = useClient();
  const key = withClient(client, JSON.stringify([mapName, query]));
  return useLiveResults(() => client.query<V>(mapName, query), key);
}

/** A live full-text search of `mapName`; resubscribes when its arguments' contents change, unsubscribes on unmount. */
export function useSearch(mapName: string, query: string, options?: SearchOptions): SearchState {
  const client = useClient();
  const key = withClient(client, JSON.stringify([mapName, query, options ?? null]));
  return useLiveResults(() => client.searchSubscribe(mapName, query, options), key);
}

const clientIds = new WeakMap<object, number>();
let nextClientId = 0;

/** Adds the client's identity to `key`, so a provider given another client resubscribes on it. */
function withClient(client: object, key: string): string {
  let id = clientIds.get(client);
  if (id === undefined) {
    id = nextClientId++;
    clientIds.set(client, id);
  }
  return `${id}:${key}`;
}
