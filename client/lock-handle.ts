import type { ClientMessage } from "../core/protocol/message.ts";

interface Waiter<T> {
  message: ClientMessage;
  resolve(value: T): void;
}

/**
 * A distributed lock (PROTOCOL.md §11.2): `lock()` resolves with a fencing token once the server grants
 * it (requests queue FIFO there). The server releases a lock when its holder disconnects, so a token is
 * only good while the connection that got it lasts; requests still waiting are sent again after a reconnect.
 */
export class LockHandle {
  readonly name: string;
  readonly #send: (message: ClientMessage) => boolean;
  readonly #nextId: () => string;
  readonly #grants = new Map<string, Waiter<number>>();
  readonly #releases = new Map<string, Waiter<boolean>>();

  constructor(name: string, send: (message: ClientMessage) => boolean, nextId: () => string) {
    this.name = name;
    this.#send = send;
    this.#nextId = nextId;
  }

  /** Resolves with the fencing token when the lock is granted. `ttlMs` bounds how long it is held. */
  lock(ttlMs?: number): Promise<number> {
    const requestId = this.#nextId();
    const payload = ttlMs === undefined ? { requestId, name: this.name } : { requestId, name: this.name, ttl: ttlMs };
    return this.#request(this.#grants, requestId, { type: "LOCK_REQUEST", payload });
  }

  /** Releases the lock held with `fencingToken`; resolves with whether the server accepted it. */
  unlock(fencingToken: number): Promise<boolean> {
    const requestId = this.#nextId();
    return this.#request(this.#releases, requestId, { type: "LOCK_RELEASE", payload: { requestId, name: this.name, fencingToken } });
  }

  /** After AUTH_ACK: sends the requests still waiting for an answer. */
  resume(): void {
    for (const waiter of [...this.#grants.values(), ...this.#releases.values()]) this.#send(waiter.message);
  }

  granted(requestId: string, fencingToken: number): void {
    this.#grants.get(requestId)?.resolve(fencingToken);
    this.#grants.delete(requestId);
  }

  released(requestId: string, success: boolean): void {
    this.#releases.get(requestId)?.resolve(success);
    this.#releases.delete(requestId);
  }

  #request<T>(waiters: Map<string, Waiter<T>>, requestId: string, message: ClientMessage): Promise<T> {
    return new Promise<T>((resolve) => {
      waiters.set(requestId, { message, resolve });
      // Unsent now means offline: resume() sends it after the next handshake.
      this.#send(message);
    });
  }
}
