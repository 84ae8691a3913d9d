import type { GroupPartial } from "../../core/query-groups.ts";

/**
 * What an owner tells a home about one of its grouped or windowed (limited) queries after a commit: the home, not
 * the owner, keeps their results, since a sharded map's group rows and top-N window span every shard.
 */
export interface QueryEvent {
  conn: string;
  queryId: string;
  /** The owner partition that sends it. */
  partition: number;
  /** Windowed query: each written key with its new value, or null when it no longer matches (or was deleted). */
  changes?: { key: string; value: unknown }[];
  /** Grouped query: this owner's partial aggregates of every group it now holds. */
  groups?: GroupPartial[];
}

/** Sends query events to one home; answers the connections the home no longer knows. */
export type DeliverQueryEvents = (home: number, events: QueryEvent[]) => Promise<string[]>;
