import { decodeMessage, encodeMessage } from "../core/codec.ts";

type Message = { type: string; payload?: Record<string, unknown> } & Record<string, unknown>;

/** A lean msgpack WebSocket for load: counts bytes received and hands every message to one listener. */
export class BenchSocket {
  bytesIn = 0;
  readonly #ws: WebSocket;
  #listener: (message: Message) => void = () => undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.binaryType = "arraybuffer";
    ws.addEventListener("message", (event) => {
      const data = event.data as ArrayBuffer;
      this.bytesIn += data.byteLength;
      const message = decodeMessage(new Uint8Array(data));
      if (typeof message === "object" && message !== null && "type" in message) this.#listener(message as Message);
    });
  }

  static async open(url: string, token?: string): Promise<BenchSocket> {
    const ws = new WebSocket(url);
    const socket = new BenchSocket(ws);
    const acked = socket.next("AUTH_ACK", 30_000);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), { once: true });
    });
    socket.send({ type: "AUTH", token: token ?? "" });
    await acked;
    return socket;
  }

  onMessage(listener: (message: Message) => void): void {
    this.#listener = listener;
  }

  /** Resolves with the next message of `type` (replacing the listener until then). */
  next(type: string, timeoutMs = 30_000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.#listener = (message) => {
        if (message.type !== type) return;
        clearTimeout(timer);
        this.#listener = () => undefined;
        resolve(message);
      };
    });
  }

  send(message: unknown): void {
    this.#ws.send(encodeMessage(message));
  }

  close(): void {
    this.#ws.close();
  }
}
