import { pnCounterStateSchema, type PNCounterState } from "../../core/protocol/shared.ts";
import { toWireCounterState } from "../../core/protocol/counters.ts";
import type { ConnectionSender } from "../delivery/connection-sender.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import { SerialQueue } from "../../core/serial-queue.ts";
import type { SqlPort } from "../storage/sql-port.ts";

/** Merges two PN counter states: the maximum per node, separately for `p` and `n` (PROTOCOL.md §11.3). */
export function mergeCounterStates(a: PNCounterState, b: PNCounterState): PNCounterState {
  return { p: mergeSide(a.p, b.p), n: mergeSide(a.n, b.n) };
}

function mergeSide(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = { ...a };
  for (const [node, value] of Object.entries(b)) out[node] = Math.max(out[node] ?? value, value);
  return out;
}

/**
 * Owner role, PN counters (PROTOCOL.md §11.3, Part A 9): each counter's state and its subscribers live in SQLite
 * (counter_state, counter_sub). COUNTER_UPDATEs of one counter go out one after another, so a subscriber never
 * sees an older state after a newer one.
 */
export class CounterService {
  readonly #sql: SqlPort;
  readonly #sender: ConnectionSender;
  readonly #queue = new SerialQueue();

  constructor(deps: { sql: SqlPort; sender: ConnectionSender }) {
    this.#sql = deps.sql;
    this.#sender = deps.sender;
  }

  /** COUNTER_REQUEST: subscribes the connection and answers the state (`{p:{}, n:{}}` for a new counter). */
  request(name: string, subscriber: ConnectionRef): PNCounterState {
    this.#subscribe(name, subscriber);
    return this.#read(name);
  }

  /** COUNTER_SYNC: merges, persists, subscribes the sender and sends COUNTER_UPDATE to every other subscriber. */
  async sync(name: string, state: PNCounterState, sender: ConnectionRef): Promise<PNCounterState> {
    const merged = this.#sql.transaction(() => {
      const next = mergeCounterStates(this.#read(name), state);
      this.#sql.exec(
        "INSERT INTO counter_state (name, state) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET state = excluded.state",
        name,
        JSON.stringify(next),
      );
      this.#subscribe(name, sender);
      return next;
    });
    await this.#queue.run(name, async () => {
      const targets = this.#subscribers(name).filter((ref) => !(ref.home === sender.home && ref.conn === sender.conn));
      const update = { type: "COUNTER_UPDATE", payload: { name, state: toWireCounterState(this.#read(name)) } };
      for (const gone of await this.#sender.send(targets, [update])) this.dropConnection(gone);
    });
    return merged;
  }

  dropConnection({ home, conn }: ConnectionRef): void {
    this.#sql.exec("DELETE FROM counter_sub WHERE home = ? AND conn = ?", home, conn);
  }

  #subscribe(name: string, { home, conn }: ConnectionRef): void {
    this.#sql.exec("INSERT INTO counter_sub (name, home, conn) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", name, home, conn);
  }

  #subscribers(name: string): ConnectionRef[] {
    return this.#sql
      .exec("SELECT home, conn FROM counter_sub WHERE name = ?", name)
      .map((row) => ({ home: Number(row.home), conn: String(row.conn) }));
  }

  #read(name: string): PNCounterState {
    const row = this.#sql.exec("SELECT state FROM counter_state WHERE name = ?", name)[0];
    if (row === undefined) return { p: {}, n: {} };
    return pnCounterStateSchema.parse(JSON.parse(String(row.state)));
  }
}
