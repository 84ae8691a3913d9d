/** The part of the standard WebSocket the client uses; tests pass a fake with the same shape. */
export interface WebSocketLike {
  binaryType: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** Opens a socket to `url`. */
export type WebSocketFactory = (url: string) => WebSocketLike;

type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Opens a socket with the runtime's global WebSocket (browsers, Node ≥ 22). */
export const openGlobalWebSocket: WebSocketFactory = (url) => {
  const ctor: unknown = Reflect.get(globalThis, "WebSocket");
  if (typeof ctor !== "function") throw new Error("no global WebSocket: pass `webSocketFactory` to TopGunClient");
  // The global's own typings differ per runtime (DOM, undici, workers); its shape is the standard one.
  const socket = new (ctor as WebSocketConstructor)(url);
  socket.binaryType = "arraybuffer";
  return socket;
};

/** The WebSocket URL of a server: http(s) becomes ws(s), a bare host gets `/ws`, and `clientId` is set. */
export function connectionUrl(serverUrl: string, clientId: string): string {
  const url = new URL(serverUrl.replace(/^http/, "ws"));
  if (url.pathname === "" || url.pathname === "/") url.pathname = "/ws";
  url.searchParams.set("clientId", clientId);
  return url.toString();
}

/** The bytes of a received frame, or undefined for a text frame (the protocol is binary only). */
export function frameBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}
