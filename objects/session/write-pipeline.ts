/** Writes one connection may have placed and not yet answered. */
export const MAX_WRITES_IN_FLIGHT = 8;

interface Lane {
  /** Settles once every write begun so far was answered and its replies went out. */
  tail: Promise<void>;
  /** One promise per unanswered write, oldest first (each settles with its write's answer). */
  inFlight: Promise<void>[];
}

/** One write's place in its connection's lane. */
export interface WriteSlot {
  /** Sends a reply of this write once every earlier write of the connection was answered (in order, never lost). */
  reply(message: unknown): void;
  /** Ends the slot: `answered` settles once the write sent its last reply (called exactly once, also on failure). */
  finish(answered?: Promise<void>): void;
}

/**
 * Home role: pipelined writes per connection. A connection's next batch is placed while the owners still apply the
 * previous ones (owners take a connection's batches in the order they were placed), so owner calls coalesce and the
 * home never idles waiting for an owner. What the client sees stays in order: each write's replies (OP_ACK,
 * OP_REJECTED, ERROR) wait for those of the writes before it, a message that is not a write waits until the
 * connection's writes were answered (so it reads them), and at most MAX_WRITES_IN_FLIGHT writes are in flight
 * per connection (memory stays bounded by that many frames).
 */
export class WritePipeline {
  readonly #lanes = new Map<string, Lane>();
  readonly #limit: number;

  constructor(limit = MAX_WRITES_IN_FLIGHT) {
    this.#limit = limit;
  }

  /** Waits until the connection may place one more write. */
  async room(conn: string): Promise<void> {
    for (;;) {
      const oldest = this.#lanes.get(conn)?.inFlight[0];
      const count = this.#lanes.get(conn)?.inFlight.length ?? 0;
      if (!oldest || count < this.#limit) return;
      await oldest;
    }
  }

  /** Waits until every write of the connection begun so far was answered. */
  async drained(conn: string): Promise<void> {
    const lane = this.#lanes.get(conn);
    if (lane) await lane.tail;
  }

  /** Opens the slot of the connection's next write; `send` puts a message on the socket. */
  begin(conn: string, send: (message: unknown) => void): WriteSlot {
    const lane = this.#lanes.get(conn) ?? { tail: Promise.resolve(), inFlight: [] };
    this.#lanes.set(conn, lane);
    const previous = lane.tail;
    let open = false;
    const held: unknown[] = [];
    const opened = previous.then(() => {
      open = true;
      for (const message of held.splice(0)) send(message);
    });
    let settle!: () => void;
    const mine = new Promise<void>((resolve) => (settle = resolve));
    lane.tail = mine;
    lane.inFlight.push(mine);
    let finished = false;
    return {
      reply: (message) => {
        if (open) send(message);
        else held.push(message);
      },
      finish: (answered = Promise.resolve()) => {
        if (finished) return;
        finished = true;
        void Promise.all([opened, answered.catch(() => {})]).then(() => {
          lane.inFlight.splice(lane.inFlight.indexOf(mine), 1);
          if (lane.tail === mine) this.#lanes.delete(conn);
          settle();
        });
      },
    };
  }
}
