import { encodeMessage } from "../../core/codec.ts";
import type { ConnectionRef, DeliverToHome } from "./event-fanout.ts";

/**
 * Owner role: sends messages to connections on any home, one delivery per home. Resolves to the connections their
 * home no longer knows, so the caller can forget them (the sibling of EventFanout for topics, counters and locks).
 */
export class ConnectionSender {
  readonly #deliver: DeliverToHome;

  constructor(deliver: DeliverToHome) {
    this.#deliver = deliver;
  }

  async send(targets: readonly ConnectionRef[], messages: readonly unknown[]): Promise<ConnectionRef[]> {
    if (targets.length === 0 || messages.length === 0) return [];
    const frames = messages.map((message) => encodeMessage(message));
    const byHome = new Map<number, string[]>();
    for (const { home, conn } of targets) {
      const conns = byHome.get(home);
      if (conns) conns.push(conn);
      else byHome.set(home, [conn]);
    }
    const unknown: ConnectionRef[] = [];
    await Promise.all(
      [...byHome].map(([home, conns]) =>
        this.#deliver(home, conns, frames).then(
          (gone) => {
            for (const conn of gone) unknown.push({ home, conn });
          },
          (err: unknown) => console.error(`[owner] delivery to home p${home} failed`, err),
        ),
      ),
    );
    return unknown;
  }
}
