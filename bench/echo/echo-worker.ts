// The smallest server the write benchmark can drive: every frame gets one reply, no decoding, no state. The first
// frame (AUTH) is answered AUTH_ACK, every later one (an OP_BATCH of 100 ops) OP_ACK. Its ops/s under the same load
// is the ceiling of what wrangler dev's WebSocket path can carry on this machine.
import { encodeMessage } from "../../core/codec.ts";

const AUTH_ACK = encodeMessage({ type: "AUTH_ACK", userId: "echo" });
const OP_ACK = encodeMessage({ type: "OP_ACK", payload: { lastId: "echo" } });

export default {
  fetch(request: Request): Response {
    if (request.headers.get("Upgrade") !== "websocket") return Response.json({ ok: true });
    const [client, server] = Object.values(new WebSocketPair());
    if (!client || !server) return new Response("no socket pair", { status: 500 });
    server.accept();
    let authenticated = false;
    server.addEventListener("message", () => {
      server.send(authenticated ? OP_ACK : AUTH_ACK);
      authenticated = true;
    });
    return new Response(null, { status: 101, webSocket: client });
  },
};
