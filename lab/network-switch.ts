import { openGlobalWebSocket, type WebSocketFactory, type WebSocketLike } from "../client/index.ts";

/**
 * A simulated network cable for one device: while it is unplugged, open sockets drop and new ones fail at once,
 * so the client goes through its real offline path (backoff, queued ops, resync on reconnect). The state is kept
 * in localStorage under `storageKey`, so a device that was offline stays offline after a reload.
 */
export class NetworkSwitch {
  readonly #storageKey: string;
  readonly #sockets = new Set<SwitchedSocket>();
  readonly #listeners = new Set<(online: boolean) => void>();
  #online: boolean;

  constructor(storageKey: string) {
    this.#storageKey = storageKey;
    this.#online = localStorage.getItem(storageKey) !== "offline";
  }

  get online(): boolean {
    return this.#online;
  }

  /** Opens sockets through the switch; pass it as `webSocketFactory`. */
  readonly factory: WebSocketFactory = (url) => {
    if (!this.#online) return new RefusedSocket();
    const socket = new SwitchedSocket(openGlobalWebSocket(url), () => this.#sockets.delete(socket));
    this.#sockets.add(socket);
    return socket;
  };

  setOnline(online: boolean): void {
    if (online === this.#online) return;
    this.#online = online;
    if (online) localStorage.removeItem(this.#storageKey);
    else localStorage.setItem(this.#storageKey, "offline");
    if (!online) {
      for (const socket of [...this.#sockets]) socket.cut();
    }
    for (const listener of this.#listeners) listener(online);
  }

  onChange(listener: (online: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/**
 * A real socket behind the switch. `cut()` drops it the way a lost network does: the client hears the close at
 * once, while a plain `close()` would wait for the server's half of the closing handshake.
 */
class SwitchedSocket implements WebSocketLike {
  readonly #inner: WebSocketLike;
  readonly #onGone: () => void;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(inner: WebSocketLike, onGone: () => void) {
    this.#inner = inner;
    this.#onGone = onGone;
    inner.onopen = (event) => this.onopen?.(event);
    inner.onmessage = (event) => this.onmessage?.(event);
    inner.onerror = (event) => this.onerror?.(event);
    inner.onclose = (event) => {
      this.#onGone();
      this.onclose?.(event);
    };
  }

  get binaryType(): string {
    return this.#inner.binaryType;
  }

  set binaryType(value: string) {
    this.#inner.binaryType = value;
  }

  send(data: Uint8Array): void {
    this.#inner.send(data);
  }

  close(code?: number, reason?: string): void {
    this.#onGone();
    this.#inner.close(code, reason);
  }

  cut(): void {
    const inner = this.#inner;
    inner.onopen = inner.onmessage = inner.onerror = inner.onclose = null;
    this.close();
    this.onclose?.({ code: 1006 });
  }
}

/** A socket that fails to connect, as one does with the network down. */
class RefusedSocket implements WebSocketLike {
  binaryType = "arraybuffer";
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor() {
    // After the client has attached its handlers, like a real failed connect.
    setTimeout(() => {
      this.onerror?.({});
      this.onclose?.({ code: 1006 });
    }, 0);
  }

  send(): void {
    throw new Error("offline");
  }

  close(): void {}
}
