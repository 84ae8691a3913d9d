import type { QueryEvent } from "./query-events.ts";

/** Frames for one connection of a home. */
export interface ConnectionFrames {
  conn: string;
  frames: Uint8Array[];
}

/** Sends frames to connections on one home partition; answers the connections the home no longer knows. */
export type DeliverEachToHome = (home: number, deliveries: ConnectionFrames[]) => Promise<string[]>;

/**
 * Frames an owner collected for subscribers, grouped by home partition and connection in the order they were added,
 * and sent with one RPC per home. A connection its home reports unknown is handed to `dropUnknown`, so the owner can
 * forget its subscriptions; a failed delivery is logged and never fails the write that produced it.
 */
export class HomeDeliveries {
  readonly #byHome = new Map<number, Map<string, Uint8Array[]>>();

  add(home: number, conn: string, frames: readonly Uint8Array[]): void {
    if (frames.length === 0) return;
    let conns = this.#byHome.get(home);
    if (!conns) this.#byHome.set(home, (conns = new Map()));
    const queued = conns.get(conn);
    if (queued) queued.push(...frames);
    else conns.set(conn, [...frames]);
  }

  async send(deliver: DeliverEachToHome, dropUnknown: (home: number, conn: string) => void, what: string): Promise<void> {
    await Promise.all(
      [...this.#byHome].map(([home, conns]) =>
        deliver(home, [...conns].map(([conn, frames]) => ({ conn, frames }))).then(
          (unknown) => {
            for (const conn of unknown) dropUnknown(home, conn);
          },
          (err: unknown) => console.error(`[owner] ${what} delivery to home p${home} failed`, err),
        ),
      ),
    );
  }
}

/** The home role as an owner calls it: pushes frames to connections of that home; answers the ids no longer there. */
export interface HomeApi {
  homeDeliver(request: { conns: string[]; frames: Uint8Array[] }): string[] | Promise<string[]>;
  homeDeliverEach(request: { deliveries: ConnectionFrames[] }): string[] | Promise<string[]>;
  /** Changes to grouped and windowed queries, which the home keeps (see query-events.ts). */
  homeQueryEvents(request: { events: QueryEvent[] }): string[] | Promise<string[]>;
}
