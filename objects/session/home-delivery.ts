import type { Principal } from "../../core/principal.ts";
import type { ConnectionFrames } from "../delivery/home-deliveries.ts";
import type { OutboundGuard } from "./outbound-guard.ts";

/** One socket of a connection, as delivery sees it. */
export interface DeliverySocket {
  principal: Principal;
  /** Sends a frame; a peer that is already gone is ignored (its close event cleans up). */
  send(frame: Uint8Array): void;
}

/**
 * Home role: pushes the frames owners send to this home's connections, through the outbound guard, in the order the
 * deliveries arrived (the guard may wait for the policies, so deliveries are chained). Answers the connections that
 * are no longer here, so owners drop them.
 */
export class HomeDelivery {
  readonly #socketsOf: (conn: string) => DeliverySocket[];
  readonly #guard: OutboundGuard;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(deps: { socketsOf: (conn: string) => DeliverySocket[]; guard: OutboundGuard }) {
    this.#socketsOf = deps.socketsOf;
    this.#guard = deps.guard;
  }

  deliver(conns: readonly string[], frames: readonly Uint8Array[]): Promise<string[]> {
    return this.deliverEach(conns.map((conn) => ({ conn, frames: [...frames] })));
  }

  deliverEach(deliveries: readonly ConnectionFrames[]): Promise<string[]> {
    const run = this.#tail.then(() => this.#send(deliveries));
    this.#tail = run.catch(() => undefined); // a failed delivery must not stop the ones after it
    return run;
  }

  async #send(deliveries: readonly ConnectionFrames[]): Promise<string[]> {
    const unknown: string[] = [];
    for (const { conn, frames } of deliveries) {
      const sockets = this.#socketsOf(conn);
      if (sockets.length === 0) unknown.push(conn);
      for (const socket of sockets) {
        for (const frame of await this.#guard.permitted(conn, socket.principal, frames)) socket.send(frame);
      }
    }
    return unknown;
  }
}
