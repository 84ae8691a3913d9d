// A WebSocket factory for real TopGunClients that records every frame each way: its type, size and how many records
// or entries it carries. How e2e tests tell which sync path a client took and what it cost, without timing.
import { frameBytes, openGlobalWebSocket, type WebSocketFactory, type WebSocketLike } from "../../client/web-socket.ts";
import { decodeMessage } from "../../core/codec.ts";

export interface CountedFrame {
  type: string;
  bytes: number;
  /** `payload.records.length` (LWW sync leaves), when present. */
  records?: number;
  /** `payload.entries.length` (OR-Map sync leaves and diffs), when present. */
  entries?: number;
}

/** What one counting factory saw, over every socket it opened, in order. */
export interface FrameLog {
  sent: CountedFrame[];
  received: CountedFrame[];
  /** Forgets what was seen so far (a test's second phase counts from here). */
  clear(): void;
}

export function countingSockets(): { factory: WebSocketFactory; log: FrameLog } {
  const log: FrameLog = {
    sent: [],
    received: [],
    clear() {
      log.sent.length = 0;
      log.received.length = 0;
    },
  };
  const factory = (url: string): WebSocketLike => {
    const socket = openGlobalWebSocket(url);
    let onmessage: WebSocketLike["onmessage"] = null;
    socket.onmessage = (event) => {
      const bytes = frameBytes(event.data);
      if (bytes) log.received.push(counted(bytes));
      onmessage?.(event);
    };
    return {
      get binaryType() { return socket.binaryType; },
      set binaryType(value) { socket.binaryType = value; },
      send: (data) => {
        log.sent.push(counted(data));
        socket.send(data);
      },
      close: (code, reason) => socket.close(code, reason),
      get onopen() { return socket.onopen; },
      set onopen(handler) { socket.onopen = handler; },
      get onmessage() { return onmessage; },
      set onmessage(handler) { onmessage = handler; },
      get onclose() { return socket.onclose; },
      set onclose(handler) { socket.onclose = handler; },
      get onerror() { return socket.onerror; },
      set onerror(handler) { socket.onerror = handler; },
    };
  };
  return { factory, log };
}

function counted(bytes: Uint8Array): CountedFrame {
  const message: unknown = decodeMessage(bytes);
  const frame: CountedFrame = { type: "<undecodable>", bytes: bytes.byteLength };
  if (typeof message !== "object" || message === null) return frame;
  const type = Reflect.get(message, "type");
  frame.type = typeof type === "string" ? type : "<untyped>";
  const payload: unknown = Reflect.get(message, "payload");
  if (typeof payload === "object" && payload !== null) {
    const records: unknown = Reflect.get(payload, "records");
    const entries: unknown = Reflect.get(payload, "entries");
    if (Array.isArray(records)) frame.records = records.length;
    if (Array.isArray(entries)) frame.entries = entries.length;
  }
  return frame;
}
