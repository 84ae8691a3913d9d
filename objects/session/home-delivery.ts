import type { Principal } from "../../core/principal.ts";
import type { OutboundCheck, OutboundGuard } from "./outbound-guard.ts";

/** Frames for one connection of this home (ConnectionFrames, read only). */
type OutgoingFrames = { readonly conn: string; readonly frames: readonly Uint8Array[] };

/** One socket of a connection, as delivery sees it. */
export interface DeliverySocket {
  principal: Principal;
  /** Sends a frame; a peer that is already gone is ignored (its close event cleans up). */
  send(frame: Uint8Array): void;
}

/**
 * Home role: pushes the frames owners send to this home's connections, through the outbound guard, in the order the
 * deliveries arrived. Answers the connections that are no longer here, so owners drop them.
 *
 * A delivery goes out at once, in the call that brought it, when the home holds a copy of the policies that may
 * serve and no earlier delivery is still waiting; otherwise it waits for the policies behind the deliveries before
 * it (they are chained), so a later delivery never overtakes an earlier one. The fast path matters because a topic
 * publish reaches one call per home, and awaiting each one's check cost more than the check.
 */
export class HomeDelivery {
  readonly #socketsOf: (conn: string) => DeliverySocket[];
  readonly #guard: Pick<OutboundGuard, "check" | "checkNow">;
  #tail: Promise<unknown> = Promise.resolve();
  /** Deliveries chained behind the policies and not yet sent. */
  #waiting = 0;

  constructor(deps: { socketsOf: (conn: string) => DeliverySocket[]; guard: Pick<OutboundGuard, "check" | "checkNow"> }) {
    this.#socketsOf = deps.socketsOf;
    this.#guard = deps.guard;
  }

  deliver(conns: readonly string[], frames: readonly Uint8Array[]): string[] | Promise<string[]> {
    return this.deliverEach(conns.map((conn) => ({ conn, frames })));
  }

  deliverEach(deliveries: readonly OutgoingFrames[]): string[] | Promise<string[]> {
    const check = this.#waiting === 0 ? this.#guard.checkNow() : undefined;
    if (check) return this.#send(deliveries, check);
    this.#waiting += 1;
    const run = this.#tail.then(async () => {
      try {
        return this.#send(deliveries, await this.#guard.check());
      } finally {
        this.#waiting -= 1;
      }
    });
    this.#tail = run.catch(() => undefined); // a failed delivery must not stop the ones after it
    return run;
  }

  #send(deliveries: readonly OutgoingFrames[], check: OutboundCheck): string[] {
    const unknown: string[] = [];
    for (const { conn, frames } of deliveries) {
      const sockets = this.#socketsOf(conn);
      if (sockets.length === 0) unknown.push(conn);
      for (const socket of sockets) {
        for (const frame of check(conn, socket.principal, frames)) socket.send(frame);
      }
    }
    return unknown;
  }
}
