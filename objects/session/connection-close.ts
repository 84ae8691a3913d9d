import type { ConnectionRef } from "../delivery/event-fanout.ts";

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
