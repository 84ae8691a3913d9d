// A scripted stand-in for the server in unit tests: every socket the client opens lands here, and tests
// read what the client sent and push server messages back.
import { decodeMessage, encodeMessage } from "../../core/codec.ts";
import { parseClientMessage, type ClientMessage, type ServerMessage } from "../../core/protocol/message.ts";
import type { WebSocketFactory, WebSocketLike } from "../web-socket.ts";

export class FakeSocket implements WebSocketLike {
  binaryType = "blob";
  readonly url: string;
  readonly sent: ClientMessage[] = [];
  closed = false;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(url: string) {
    this.url = url;
  }

  send(data: Uint8Array): void {
    if (this.closed) throw new Error("socket closed");
    const parsed = parseClientMessage(decodeMessage(data));
    if (!parsed.ok) throw new Error(`client sent an invalid frame: ${JSON.stringify(parsed)}`);
    this.sent.push(parsed.message);
  }

  close(): void {
    this.closed = true;
  }

  /** The server side opens the socket. */
  open(): void {
    this.onopen?.({});
  }

  /** The server sends `message`. */
  deliver(message: ServerMessage): void {
    const bytes = encodeMessage(message);
    this.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  }

  /** The network drops the socket. */
  drop(): void {
    this.closed = true;
    this.onclose?.({ code: 1006 });
  }

  /** The connect fails with an error event and no close event after it (Node's WebSocket on a refused connection). */
  refuse(): void {
    this.closed = true;
    this.onerror?.({});
  }

  /** Messages of one type the client sent on this socket. */
  sentOf<T extends ClientMessage["type"]>(type: T): Extract<ClientMessage, { type: T }>[] {
    return this.sent.filter((m): m is Extract<ClientMessage, { type: T }> => m.type === type);
  }
}

/** Collects the sockets a client opens. */
export class FakeServer {
  readonly sockets: FakeSocket[] = [];
  readonly factory: WebSocketFactory = (url) => {
    const socket = new FakeSocket(url);
    this.sockets.push(socket);
    return socket;
  };

  get last(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (socket === undefined) throw new Error("the client has not opened a socket");
    return socket;
  }

  /** Opens the latest socket and completes the handshake. */
  accept(): FakeSocket {
    const socket = this.last;
    socket.open();
    socket.deliver({ type: "AUTH_REQUIRED" });
    return socket;
  }
}

/** Waits until `condition` holds, polling the event loop; fails with `what` after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Opens the latest socket, answers AUTH with AUTH_ACK, and returns the socket once authenticated. */
export async function handshake(server: FakeServer): Promise<FakeSocket> {
  const socket = server.accept();
  await until(() => socket.sentOf("AUTH").length > 0, "AUTH");
  socket.deliver({ type: "AUTH_ACK", userId: "u" });
  return socket;
}
