// A DevTools protocol session with the local server's workerd isolate (its inspector on INSPECTOR_PORT, which
// test/support/server-harness.ts hands to wrangler dev): bench/profile.ts records CPU profiles through it,
// bench/memory.ts reads the heap.
// @ts-expect-error ws (a wrangler dependency) ships no types; Node's own WebSocket cannot send an Origin header.
import WebSocket from "ws";

// The dev server's inspector only accepts DevTools' origin.
const DEVTOOLS_ORIGIN = "https://devtools.devprod.cloudflare.dev";

export interface InspectorSession {
  /** Sends one protocol command and resolves with its result. */
  call(method: string, params?: object): Promise<unknown>;
  close(): void;
}

/** Opens a session with the first target the inspector on `port` lists (the server's isolate). */
export async function openInspector(port: number): Promise<InspectorSession> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl, { headers: { Origin: DEVTOOLS_ORIGIN } });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let nextId = 0;
  const pending = new Map<number, (result: unknown) => void>();
  ws.on("message", (data: unknown) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  return {
    call: (method, params = {}) =>
      new Promise((resolve) => {
        const id = ++nextId;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}
