// The runtime's echo ceiling: bench/echo/echo-worker.ts under wrangler dev, driven by the same write load as the
// real server (bench/writes.ts), so every throughput can be reported as a share of what the runtime carries today.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { findFreePort, PROJECT_ROOT, webSocketUrl } from "../test/support/server-harness.ts";

const START_TIMEOUT_MS = 60_000;

export interface EchoServer {
  wsUrl(params?: Record<string, string>): string;
  stop(): Promise<void>;
}

export async function startEchoServer(): Promise<EchoServer> {
  const port = await findFreePort();
  const stateDir = await mkdtemp(join(tmpdir(), "topgun-echo-"));
  const wrangler = join(PROJECT_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
  const child = spawn(
    process.execPath,
    [wrangler, "dev", "--config", join(PROJECT_ROOT, "bench", "echo", "wrangler.toml"), "--port", String(port),
      "--ip", "127.0.0.1", "--persist-to", stateDir, "--inspector-port", "0", "--show-interactive-dev-session=false",
      "--log-level", "warn"],
    { cwd: PROJECT_ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, stdio: "ignore", detached: true },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // The group is already gone: nothing left to stop.
      }
    }
    await exited;
    await rm(stateDir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok) break;
    } catch {
      // Not listening yet: poll again until the deadline.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`echo server did not start within ${START_TIMEOUT_MS} ms`);
    }
    await delay(250);
  }
  return { wsUrl: (params) => webSocketUrl(url, params), stop };
}

/** A throughput as a share of the ceiling, in percent. */
export function shareOf(opsPerSecond: number, ceiling: number): number {
  return Math.round((1000 * opsPerSecond) / ceiling) / 10;
}
