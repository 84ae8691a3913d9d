// A small Worker of the bench's own (bench/echo/, bench/rpc/, bench/owner-rpc/) under wrangler dev on a free port,
// in its own process group with its own state directory, answering once its `/` does.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { findFreePort, PROJECT_ROOT } from "../test/support/server-harness.ts";

const START_TIMEOUT_MS = 60_000;

export interface SideWorker {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Its state directory; its processes carry it as TOPGUN_STATE_DIR, so cpu-of-server.ts can find them. */
  stateDir: string;
  stop(): Promise<void>;
}

/** Starts the Worker of `bench/<folder>/wrangler.toml`; throws (after stopping it) if it does not answer in 60 s. */
export async function startSideWorker(folder: string): Promise<SideWorker> {
  const port = await findFreePort();
  const stateDir = await mkdtemp(join(tmpdir(), `topgun-${folder}-`));
  const wrangler = join(PROJECT_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
  const child = spawn(
    process.execPath,
    [wrangler, "dev", "--config", join(PROJECT_ROOT, "bench", folder, "wrangler.toml"), "--port", String(port),
      "--ip", "127.0.0.1", "--persist-to", stateDir, "--inspector-port", "0", "--show-interactive-dev-session=false",
      "--log-level", "warn"],
    { cwd: PROJECT_ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false", TOPGUN_STATE_DIR: stateDir }, stdio: "ignore", detached: true },
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
  for (const deadline = Date.now() + START_TIMEOUT_MS; ; await delay(250)) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok) break;
    } catch {
      // Not listening yet: poll again until the deadline.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`bench/${folder} did not start within ${START_TIMEOUT_MS} ms`);
    }
  }
  return { url, stateDir, stop };
}
