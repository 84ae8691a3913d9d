import type { ConnectionRef } from "../delivery/event-fanout.ts";
import type { SqlPort } from "../storage/sql-port.ts";

/**
 * The home role's tables that keep per-connection state (a `conn` column, no `home`), each keyed by `conn` first.
 * `connection-close.test.ts` checks the schema has no other such table, so a new one cannot be forgotten here.
 */
export const HOME_CONNECTION_TABLES = [
  "conn_interest",
  "conn_query",
  "conn_search",
  "conn_journal",
  "conn_coordination",
  "query_view",
  "query_group",
  "query_window",
] as const;

const HOLDS_STATE = `SELECT ${HOME_CONNECTION_TABLES.map((table) => `EXISTS (SELECT 1 FROM ${table} WHERE conn = ?)`).join(" OR ")} AS held`;

/**
 * True when a table of the home role holds state for the connection. Most connections of a reconnect storm subscribed
 * to nothing, and their close then costs this one statement instead of one per table (~70 µs each).
 */
export function holdsConnectionState(sql: SqlPort, conn: string): boolean {
  return Number(sql.exec(HOLDS_STATE, ...HOME_CONNECTION_TABLES.map(() => conn))[0]?.held ?? 1) !== 0;
}

/** What a closing connection asks of each owner that holds state for it. */
export interface ConnectionOwner {
  dropConnection(request: ConnectionRef): Promise<void>;
}

/** A home feature that keeps per-connection state naming owner partitions (sync interest, queries, search, journal). */
export interface ConnectionForgetter {
  /** Forgets the connection here; answers the owner partitions that still hold state for it. */
  forgetConnection(conn: string): number[];
}

/**
 * The home side of a connection's close: every feature forgets the connection, and each owner partition any of them
 * named is told once (an owner's dropConnection clears its interest, queries, searches and journal subscriptions).
 */
export async function dropClosedConnection(
  conn: string,
  home: number,
  features: readonly ConnectionForgetter[],
  owners: (partition: number) => ConnectionOwner,
): Promise<void> {
  const partitions = new Set(features.flatMap((feature) => feature.forgetConnection(conn)));
  await Promise.all([...partitions].map((p) => owners(p).dropConnection({ home, conn })));
}
