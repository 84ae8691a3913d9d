import type { ClientMessage, ServerMessage } from "../core/protocol/message.ts";
import { backoffDelayMs, type BackoffConfig } from "./backoff.ts";
import type { ClientError } from "./client-error.ts";
import { decodeMsgpack, encodeMsgpack } from "./wire/msgpack.ts";
import { parseServerMessage, type ServerParseResult } from "./wire/parse-server-message.ts";
import { frameBytes, type WebSocketFactory, type WebSocketLike } from "./web-socket.ts";

/** Where the connection is; SYNCING lasts from AUTH_ACK until the client has sent its ops and sync requests. */
export type ConnectionState =
  | "INITIAL"
  | "CONNECTING"
  | "AUTHENTICATING"
  | "SYNCING"
  | "CONNECTED"
  | "BACKOFF"
  | "AUTH_FAILED"
  | "DISCONNECTED";

/** PING cadence, and how long without any frame from the server before the socket counts as dead. */
export interface HeartbeatConfig {
  intervalMs: number;
  timeoutMs: number;
}

export const DEFAULT_HEARTBEAT: HeartbeatConfig = { intervalMs: 5_000, timeoutMs: 15_000 };

/** What the connection reports to its owner. */
export interface ConnectionHandlers {
  onAuthenticated(): void;
  onMessage(message: ServerMessage): void;
  onStateChange(state: ConnectionState): void;
  onError(error: ClientError): void;
}

export interface ConnectionOptions {
  url: string;
  backoff: BackoffConfig;
  heartbeat: HeartbeatConfig;
  openSocket: WebSocketFactory;
  getToken(): Promise<string | undefined>;
  handlers: ConnectionHandlers;
}

/**
 * One logical connection over a series of sockets: handshake, heartbeat, and reconnects on one backoff
 * schedule. Messages after AUTH_ACK go to the owner; everything else about the socket stays here.
 */
export class Connection {
  readonly #options: ConnectionOptions;
  #socket: WebSocketLike | undefined;
  #state: ConnectionState = "INITIAL";
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  #lastFrameAt = 0;
  #closed = false;
  readonly #onOnline = () => this.reconnectNow();

  constructor(options: ConnectionOptions) {
    this.#options = options;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get isAuthenticated(): boolean {
    return this.#state === "SYNCING" || this.#state === "CONNECTED";
  }

  /** Opens the first socket and listens for the browser's `online` event where the runtime has one. */
  start(): void {
    const add: unknown = Reflect.get(globalThis, "addEventListener");
    if (typeof add === "function") add.call(globalThis, "online", this.#onOnline);
    this.#open();
  }

  /** Closes for good: no reconnects, timers stopped. */
  close(): void {
    this.#closed = true;
    const remove: unknown = Reflect.get(globalThis, "removeEventListener");
    if (typeof remove === "function") remove.call(globalThis, "online", this.#onOnline);
    clearTimeout(this.#reconnectTimer);
    this.#dropSocket();
    this.#setState("DISCONNECTED");
  }

  /** Reconnects without waiting out the backoff (network back, new token); a live socket is left alone. */
  reconnectNow(): void {
    if (this.#closed || this.isAuthenticated || this.#state === "CONNECTING" || this.#state === "AUTHENTICATING") return;
    clearTimeout(this.#reconnectTimer);
    this.#attempt = 0;
    this.#open();
  }

  /** Drops the socket and reconnects now, so the next handshake uses a new token. */
  restart(): void {
    if (this.#closed) return;
    this.#dropSocket();
    clearTimeout(this.#reconnectTimer);
    this.#attempt = 0;
    this.#open();
  }

  /** Marks the post-handshake sync requests as sent. */
  markSynced(): void {
    if (this.#state === "SYNCING") this.#setState("CONNECTED");
  }

  /** Sends on the current socket; false when there is none or it refused the frame. */
  send(message: ClientMessage): boolean {
    if (this.#socket === undefined) return false;
    try {
      this.#socket.send(encodeMsgpack(message));
      return true;
    } catch {
      // A socket that is closing throws on send; its close event schedules the reconnect that re-sends.
      return false;
    }
  }

  #open(): void {
    this.#setState("CONNECTING");
    let socket: WebSocketLike;
    try {
      socket = this.#options.openSocket(this.#options.url);
    } catch (err) {
      this.#options.handlers.onError({ kind: "CONNECTION", message: String(err) });
      this.#scheduleReconnect();
      return;
    }
    this.#socket = socket;
    // A connect or handshake that hangs (no close, no AUTH_ACK) would otherwise wait forever.
    this.#handshakeTimer = setTimeout(() => {
      if (this.#socket === socket && !this.isAuthenticated) this.#handleDrop();
    }, this.#options.heartbeat.timeoutMs);
    socket.onopen = () => {
      if (this.#socket !== socket) return;
      this.#lastFrameAt = Date.now();
      this.#setState("AUTHENTICATING");
    };
    socket.onmessage = (event) => {
      if (this.#socket === socket) this.#receive(event.data);
    };
    socket.onclose = () => {
      if (this.#socket === socket) this.#handleDrop();
    };
    // The standard follows every error with a close event, but Node's WebSocket sends none after a refused connect:
    // waiting for it would leave the client offline until the handshake timer fires. An error ends the socket either
    // way, and once it is dropped a late close is ignored.
    socket.onerror = () => {
      if (this.#socket === socket) this.#handleDrop();
    };
  }

  #receive(data: unknown): void {
    this.#lastFrameAt = Date.now();
    const bytes = frameBytes(data);
    if (bytes === undefined) return;
    let parsed: ServerParseResult;
    try {
      parsed = parseServerMessage(decodeMsgpack(bytes));
    } catch (err) {
      this.#options.handlers.onError({ kind: "PROTOCOL", message: `undecodable frame: ${String(err)}` });
      return;
    }
    if (!parsed.ok) {
      this.#options.handlers.onError({ kind: "PROTOCOL", message: parsed.error });
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case "AUTH_REQUIRED":
        void this.#authenticate();
        return;
      case "AUTH_ACK":
        if (this.isAuthenticated) return;
        this.#attempt = 0;
        clearTimeout(this.#handshakeTimer);
        this.#setState("SYNCING");
        this.#startHeartbeat();
        this.#options.handlers.onAuthenticated();
        return;
      case "AUTH_FAIL":
        this.#options.handlers.onError({ kind: "AUTH_FAIL", message: message.error ?? "authentication failed" });
        // No retry with the same credentials: setAuthToken / setAuthTokenProvider reconnects.
        this.#dropSocket();
        this.#setState("AUTH_FAILED");
        return;
      case "PONG":
        return;
      default:
        if (this.isAuthenticated) this.#options.handlers.onMessage(message);
    }
  }

  async #authenticate(): Promise<void> {
    const socket = this.#socket;
    let token: string | undefined;
    try {
      token = await this.#options.getToken();
    } catch (err) {
      this.#options.handlers.onError({ kind: "AUTH_FAIL", message: `token provider failed: ${String(err)}` });
      return;
    }
    if (this.#socket !== socket) return;
    this.send(token === undefined ? { type: "AUTH" } : { type: "AUTH", token });
  }

  #startHeartbeat(): void {
    clearInterval(this.#heartbeatTimer);
    const { intervalMs, timeoutMs } = this.#options.heartbeat;
    this.#heartbeatTimer = setInterval(() => {
      // Any frame proves the server alive; a long Merkle pull must not count as silence.
      if (Date.now() - this.#lastFrameAt > timeoutMs) {
        this.#dropSocket();
        this.#handleDrop();
        return;
      }
      this.send({ type: "PING", timestamp: Date.now() });
    }, intervalMs);
  }

  #handleDrop(): void {
    this.#dropSocket();
    if (this.#closed || this.#state === "AUTH_FAILED") return;
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    this.#setState("BACKOFF");
    clearTimeout(this.#reconnectTimer);
    const delayMs = backoffDelayMs(this.#attempt++, this.#options.backoff);
    this.#reconnectTimer = setTimeout(() => this.#open(), delayMs);
  }

  /** Detaches and closes the current socket, so its late events are ignored. */
  #dropSocket(): void {
    clearTimeout(this.#handshakeTimer);
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket === undefined) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close();
    } catch {
      // Closing a socket that never opened can throw; it is discarded either way.
    }
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#options.handlers.onStateChange(state);
  }
}
