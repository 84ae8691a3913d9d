// Cold start: a fresh local server (a new workerd process, so a new isolate) and the time until its first
// AUTH_REQUIRED. Under wrangler dev the Worker's modules are loaded while the server starts (before /health
// answers), so the start-up time holds the module evaluation and the first socket holds the Partition's
// construction (SQLite schema included) and the first request's path through the router. The Worker's own load
// (parse, compile, top-level evaluation of the uploaded script) is measured apart in worker-load.ts.
import { decodeMessage } from "../core/codec.ts";
import { startServer } from "../test/support/server-harness.ts";
import { round } from "./measure.ts";
import { workerLoad } from "./worker-load.ts";

const RUNS = 3;
const AUTH_REQUIRED_TIMEOUT_MS = 10_000;

/** Opens a socket and resolves with the ms until its first frame, which must be AUTH_REQUIRED. */
async function msToAuthRequired(url: string): Promise<number> {
  const started = performance.now();
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no AUTH_REQUIRED from ${url}`)), AUTH_REQUIRED_TIMEOUT_MS);
      socket.addEventListener("message", (event) => {
        clearTimeout(timer);
        const data: unknown = event.data;
        const message = data instanceof ArrayBuffer ? decodeMessage(new Uint8Array(data)) : undefined;
        if (typeof message === "object" && message !== null && "type" in message && message.type === "AUTH_REQUIRED") {
          resolve(performance.now() - started);
        } else reject(new Error(`first frame was not AUTH_REQUIRED: ${JSON.stringify(message)}`));
      });
      socket.addEventListener("error", () => reject(new Error(`socket to ${url} failed`)));
    });
  } finally {
    socket.close();
  }
}

const median = (values: number[]) => round([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0);

/** Medians over {@link RUNS} fresh servers. */
export async function coldStart() {
  const runs: { serverStartMs: number; firstAuthRequiredMs: number; newObjectAuthRequiredMs: number; warmAuthRequiredMs: number }[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const server = await startServer({ noAuth: true });
    try {
      const serverStartMs = performance.now() - started;
      const firstAuthRequiredMs = await msToAuthRequired(server.wsUrl({ clientId: "cold-a" }));
      const newObjectAuthRequiredMs = await msToAuthRequired(server.wsUrl({ clientId: "cold-b" }));
      const warmAuthRequiredMs = await msToAuthRequired(server.wsUrl({ clientId: "cold-a" }));
      runs.push({ serverStartMs, firstAuthRequiredMs, newObjectAuthRequiredMs, warmAuthRequiredMs });
    } finally {
      await server.stop();
    }
  }
  const load = await workerLoad();
  return {
    runs: RUNS,
    /** Spawn of `wrangler dev` until /health answers: wrangler, workerd and the Worker's module evaluation. */
    serverStartMs: median(runs.map((r) => r.serverStartMs)),
    /** The new isolate's first socket: router, a new Partition object, AUTH_REQUIRED. */
    firstAuthRequiredMs: median(runs.map((r) => r.firstAuthRequiredMs)),
    /** A second new Partition in the same isolate. */
    newObjectAuthRequiredMs: median(runs.map((r) => r.newObjectAuthRequiredMs)),
    /** The first Partition again, warm. */
    warmAuthRequiredMs: median(runs.map((r) => r.warmAuthRequiredMs)),
    /** The uploaded script loaded by a fresh V8 until its module has evaluated (median of its own runs). */
    workerModuleLoadMs: load.moduleLoadMs,
    workerModuleLoadRuns: load.runs,
  };
}
