/** What the index reads of a runtime socket. */
export interface IndexedSocket {
  readonly readyState: number;
}

/** WebSocket.OPEN. */
const OPEN = 1;

/**
 * Home role: this partition's open sockets by connection id (their tag), so a delivery finds a socket without asking
 * the runtime. `getWebSockets(tag)` allocated ~900 bytes of heap per call and took ~4% of a topic publish's CPU; at one
 * call per subscriber per event that garbage set the pace of the isolate's collections, whose pauses are the live
 * paths' slowest deliveries.
 *
 * Sockets accepted before the object last hibernated are not in memory: a miss asks the runtime (`lookUp`) and keeps
 * an open socket it answers. A socket leaves at its close or error event, or when a lookup finds it no longer open
 * (closed by this side, whose close event may never come), so the index holds at most the open sockets and those
 * closed since their last lookup.
 */
export class OpenSockets<W extends IndexedSocket> {
  readonly #byConn = new Map<string, readonly W[]>();
  readonly #lookUp: (conn: string) => W[];

  constructor(lookUp: (conn: string) => W[]) {
    this.#lookUp = lookUp;
  }

  opened(conn: string, socket: W): void {
    this.#byConn.set(conn, [socket]);
  }

  closed(conn: string): void {
    this.#byConn.delete(conn);
  }

  /** The sockets of `conn` (one, or none when it is not here), as the runtime would answer. */
  of(conn: string): readonly W[] {
    const known = this.#byConn.get(conn);
    if (known !== undefined && known[0]!.readyState === OPEN) return known;
    const found = this.#lookUp(conn);
    if (found.length === 1 && found[0]!.readyState === OPEN) this.#byConn.set(conn, found);
    else this.#byConn.delete(conn);
    return found;
  }

  /** Sockets held in memory (the tests check the bound with it). */
  get size(): number {
    return this.#byConn.size;
  }
}
