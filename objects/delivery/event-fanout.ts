import { encodeMessage } from "../../core/codec.ts";
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
  readonly #deliver: DeliverToHome;

  constructor(interest: InterestRegistry, deliver: DeliverToHome) {
    this.#interest = interest;
    this.#deliver = deliver;
  }

  async publish(map: string, tree: "lww" | "or", messages: readonly unknown[], writer?: ConnectionRef): Promise<void> {
    if (messages.length === 0) return;
    const listeners = this.#interest.listeners(map, tree);
    if (listeners.size === 0) return;
    const frames = messages.map((message) => encodeMessage(message));
    const deliveries: Promise<void>[] = [];
    for (const [home, conns] of listeners) {
      const targets = [...conns].filter((conn) => !(writer && writer.home === home && writer.conn === conn));
      if (targets.length === 0) continue;
      deliveries.push(
        this.#deliver(home, targets, frames).then(
          (unknown) => {
            for (const conn of unknown) this.#interest.dropConnection(home, conn);
          },
          (err: unknown) => console.error(`[owner] delivery to home p${home} failed`, err),
        ),
      );
    }
    await Promise.all(deliveries);
  }
}
