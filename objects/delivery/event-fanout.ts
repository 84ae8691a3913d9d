import { encodeMessage } from "../../core/codec.ts";
import { HomeDeliveries, type DeliverEachToHome } from "./home-deliveries.ts";
import type { InterestRegistry } from "./interest-registry.ts";

/** A connection, named by its home partition and its id there. */
export interface ConnectionRef {
  home: number;
  conn: string;
}

/** Sends encoded frames to connections of one home partition; resolves to the ids the home no longer knows. */
export type DeliverToHome = (home: number, conns: string[], frames: Uint8Array[]) => Promise<string[]>;

/**
 * Owner role: pushes a map's events to every interested connection, one delivery per home partition, never to the
 * writer. Connections a home reports unknown are dropped from the registry.
 */
export class EventFanout {
  readonly #interest: InterestRegistry;
  readonly #deliver: DeliverEachToHome;

  constructor(interest: InterestRegistry, deliver: DeliverEachToHome) {
    this.#interest = interest;
    this.#deliver = deliver;
  }

  async publish(map: string, tree: "lww" | "or", messages: readonly unknown[], writer?: ConnectionRef): Promise<void> {
    const outbox = new HomeDeliveries();
    this.collect(map, tree, messages, outbox, writer);
    await this.send(outbox);
  }

  /** Adds the frames of `messages` for every connection interested in the map but the writer to `outbox`. */
  collect(map: string, tree: "lww" | "or", messages: readonly unknown[], outbox: HomeDeliveries, writer?: ConnectionRef): void {
    if (messages.length === 0) return;
    const listeners = this.#interest.listeners(map, tree);
    if (listeners.size === 0) return;
    const frames = messages.map((message) => encodeMessage(message));
    for (const [home, conns] of listeners) {
      for (const conn of conns) if (!(writer && writer.home === home && writer.conn === conn)) outbox.add(home, conn, frames);
    }
  }

  /**
   * Sends `outbox`, one call per home; a connection its home no longer knows goes to `dropUnknown` (by default it
   * leaves the interest registry).
   */
  send(outbox: HomeDeliveries, dropUnknown = (home: number, conn: string) => this.#interest.dropConnection(home, conn)): Promise<void> {
    return outbox.send(this.#deliver, dropUnknown, "event");
  }
}
