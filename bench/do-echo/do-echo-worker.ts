// A Durable Object per `?map=` that answers each WebSocket frame with one OP_ACK after spending `?burnMs=` of CPU
// and (unless `?storage=off`) writing the frame's first 8 KB as one SQLite row; `?socket=plain` accepts the socket
// without the hibernation API. Nothing of the real server runs here: what it shows under load is the runtime's.
import { DurableObject } from "cloudflare:workers";
import { encodeMessage } from "../../core/codec.ts";

const AUTH_ACK = encodeMessage({ type: "AUTH_ACK", userId: "do-echo" });
const OP_ACK = encodeMessage({ type: "OP_ACK", payload: { lastId: "do-echo" } });

interface Options {
  burnMs: number;
  storage: boolean;
}

export class EchoObject extends DurableObject {
  #options: Options = { burnMs: 0, storage: true };

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS frame_log (seq INTEGER PRIMARY KEY, head BLOB)");
  }

  override fetch(request: Request): Response {
    const params = new URL(request.url).searchParams;
    this.#options = { burnMs: Number(params.get("burnMs") ?? 0), storage: params.get("storage") !== "off" };
    const [client, server] = Object.values(new WebSocketPair());
    if (!client || !server) return new Response("no socket pair", { status: 500 });
    if (params.get("socket") === "plain") {
      server.accept();
      let authenticated = false;
      server.addEventListener("message", (event) => {
        if (authenticated) this.#answer(server, event.data);
        else server.send(AUTH_ACK);
        authenticated = true;
      });
    } else {
      this.ctx.acceptWebSocket(server);
      server.serializeAttachment(false);
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  override webSocketMessage(ws: WebSocket, message: ArrayBuffer | string): void {
    if (ws.deserializeAttachment() === true) return this.#answer(ws, message);
    ws.serializeAttachment(true);
    ws.send(AUTH_ACK);
  }

  #answer(ws: WebSocket, message: ArrayBuffer | string): void {
    const until = Date.now() + this.#options.burnMs;
    while (Date.now() < until) {
      // Spends the frame's CPU time, as decoding and merging a batch would.
    }
    if (this.#options.storage) {
      const head = typeof message === "string" ? new TextEncoder().encode(message) : new Uint8Array(message.slice(0, 8192));
      this.ctx.storage.transactionSync(() => this.ctx.storage.sql.exec("INSERT INTO frame_log (head) VALUES (?)", head));
    }
    ws.send(OP_ACK);
  }
}

export default {
  fetch(request: Request, env: { ECHO: DurableObjectNamespace }): Response | Promise<Response> {
    if (request.headers.get("Upgrade") !== "websocket") return Response.json({ ok: true });
    const map = new URL(request.url).searchParams.get("map") ?? "default";
    return env.ECHO.get(env.ECHO.idFromName(map)).fetch(request);
  },
};
