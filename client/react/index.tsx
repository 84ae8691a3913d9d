// The package entry point of the React bindings (`topgun-edge/react`). React is a peer dependency.
export { TopGunProvider, useClient, type TopGunProviderProps } from "./topgun-provider.tsx";
export { useMap, useORMap } from "./use-map.tsx";
export { useQuery, useSearch, type QueryState, type SearchState } from "./use-query.tsx";
export type { LiveResults } from "./live-results.tsx";
export { useTopic, type TopicState } from "./use-topic.tsx";
export { usePNCounter, type PNCounterState } from "./use-pn-counter.tsx";
export { useConnectionState } from "./use-connection-state.tsx";
