import { exports } from "cloudflare:workers";
import { decodeMessage, encodeMessage } from "../../core/codec.ts";

/** A WebSocket opened through the Worker, with an inbox and a waitFor that fails with a clear message. */
export class WorkerdSocket {
  readonly inbox: Record<string, unknown>[] = [];
  readonly #ws: WebSocket;
  #waiters: (() => void)[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener("message", (event) => {
      const data = event.data;
      const decoded = typeof data === "string" ? { type: "<text>", data } : decodeMessage(new Uint8Array(data as ArrayBuffer));
      if (typeof decoded === "object" && decoded !== null) this.inbox.push(decoded as Record<string, unknown>);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static async open(query: string): Promise<WorkerdSocket> {
    const response = await exports.default.fetch(`http://edge.test/ws?${query}`, { headers: { Upgrade: "websocket" } });
    const ws = response.webSocket;
    if (!ws) throw new Error(`no WebSocket in the upgrade response (status ${response.status})`);
    ws.accept();
    ws.binaryType = "arraybuffer"; // newer compatibility dates default to Blob
    return new WorkerdSocket(ws);
  }

  send(message: unknown): void {
    this.#ws.send(encodeMessage(message));
  }

  sendRaw(data: string | Uint8Array): void {
    this.#ws.send(data);
  }

  async waitFor(type: string, match: (m: Record<string, unknown>) => boolean = () => true, timeoutMs = 3000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex((m) => m.type === type && match(m));
      if (index >= 0) return this.inbox.splice(index, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no ${type} within ${timeoutMs} ms; received: ${this.inbox.map((m) => m.type).join(", ") || "nothing"}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.#ws.close(1000, "done");
  }
}
