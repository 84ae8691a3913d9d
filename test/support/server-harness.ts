// Starts the real local server (scripts/start.mjs → wrangler dev → workerd) on a free port with its own state
// directory, for end-to-end tests. One harness instance is one server process group.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";

export interface ServerOptions {
  /** HS256 secret for client tokens; without it (or with `noAuth`) the server accepts every connection. */
  jwtSecret?: string;
  noAuth?: boolean;
  /** TOPGUN_SHARDED_MAPS, e.g. "name:16,other:4". */
  shardedMaps?: string;
  /**
   * Persisted Durable Object storage. When absent, a fresh temporary directory that stop() deletes; pass a
   * directory to keep the data across a stop and a new start (restart tests).
   */
  stateDir?: string;
  /** Postgres for write-through (the server then runs `--env postgres`). */
  databaseUrl?: string;
  /** How long to wait for /health (default 90 s). */
  startTimeoutMs?: number;
  /** Other settings of the Worker, e.g. `{ TOPGUN_JWKS_URL: "…" }` (npm start passes every TOPGUN_* on). */
  settings?: Record<string, string>;
}

export interface RunningServer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  stateDir: string;
  /** The WebSocket URL of `/ws` with the given query parameters (`map`, `clientId`, `namespace`). */
  wsUrl(params?: Record<string, string>): string;
  /** The server's most recent stdout/stderr (bounded). */
  output(): string;
  /**
   * Kills the whole process group (wrangler spawns workerd), waits for the process to exit, and deletes the state
   * directory if the harness created it.
   */
  stop(): Promise<void>;
  /**
   * SIGKILLs the whole process group at once (a crash: nothing is flushed or closed), waits for the process to exit,
   * and keeps the state directory, so a new server can start on it.
   */
  kill(): Promise<void>;
}

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const START_SCRIPT = join(PROJECT_ROOT, "scripts", "start.mjs");
const DEFAULT_START_TIMEOUT_MS = 90_000;
const HEALTH_POLL_INTERVAL_MS = 250;
const HEALTH_REQUEST_TIMEOUT_MS = 2_000;
const STOP_GRACE_MS = 5_000;
const OUTPUT_LIMIT_CHARS = 64 * 1024;
const ERROR_OUTPUT_CHARS = 8 * 1024;

/** The URL of a running server's WebSocket endpoint with query parameters. */
export function webSocketUrl(httpUrl: string, params: Record<string, string> = {}): string {
  const url = new URL("/ws", httpUrl.replace(/^http/, "ws"));
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.toString();
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const port = await findFreePort();
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), "topgun-e2e-")));
  const log = new OutputLog(OUTPUT_LIMIT_CHARS);
  const child = spawn(process.execPath, [START_SCRIPT], {
    cwd: PROJECT_ROOT,
    env: serverEnv(port, stateDir, options),
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so stop() reaches wrangler's workerd children too.
    detached: true,
  });
  child.stdout?.on("data", (chunk: Buffer) => { log.append(chunk.toString("utf8")); if (process.env.SERVER_LOG) process.stderr.write(chunk); });
  child.stderr?.on("data", (chunk: Buffer) => { log.append(chunk.toString("utf8")); if (process.env.SERVER_LOG) process.stderr.write(chunk); });
  const exited = exitOf(child);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopProcessGroup(child, exited);
    if (options.stateDir === undefined) await rm(stateDir, { recursive: true, force: true });
  };
  try {
    await waitForHealth(url, exited, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  } catch (err) {
    await stop();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`server on port ${port} did not start: ${reason}\n--- server output (last part) ---\n${log.tail(ERROR_OUTPUT_CHARS)}`);
  }
  const kill = async () => {
    if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
    await exited;
  };
  return { url, port, stateDir, wsUrl: (params) => webSocketUrl(url, params), output: () => log.text(), stop, kill };
}

function serverEnv(port: number, stateDir: string, options: ServerOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), TOPGUN_STATE_DIR: stateDir, HOST: "127.0.0.1" };
  // Only the options decide the server's settings, never the environment the tests run in.
  delete env.JWT_SECRET;
  delete env.DATABASE_URL;
  for (const name of Object.keys(env)) if (name.startsWith("TOPGUN_") && name !== "TOPGUN_STATE_DIR") delete env[name];
  Object.assign(env, options.settings ?? {});
  if (options.jwtSecret !== undefined) env.JWT_SECRET = options.jwtSecret;
  if (options.noAuth) env.TOPGUN_NO_AUTH = "1";
  if (options.shardedMaps !== undefined) env.TOPGUN_SHARDED_MAPS = options.shardedMaps;
  if (options.databaseUrl !== undefined) env.DATABASE_URL = options.databaseUrl;
  return env;
}

/** A port the OS says is free right now (bind to 0, read it, release it). */
export function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : undefined;
      server.close(() => (port === undefined ? reject(new Error("no port assigned")) : resolvePort(port)));
    });
  });
}

type Exit = { code: number | null; signal: NodeJS.Signals | null };

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolveExit) => {
    child.once("exit", (code, signal) => resolveExit({ code, signal }));
    child.once("error", () => resolveExit({ code: null, signal: null }));
  });
}

/** Polls /health until it answers `{ok:true}`, the process exits, or the deadline passes. */
async function waitForHealth(url: string, exited: Promise<Exit>, timeoutMs: number): Promise<void> {
  let exit: Exit | undefined;
  void exited.then((e) => (exit = e));
  const deadline = Date.now() + timeoutMs;
  let lastProblem = "no answer yet";
  while (Date.now() < deadline) {
    if (exit) throw new Error(`the process exited early (code ${exit.code}, signal ${exit.signal})`);
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(HEALTH_REQUEST_TIMEOUT_MS) });
      const body: unknown = await response.json();
      if (response.ok && typeof body === "object" && body !== null && "ok" in body && body.ok === true) return;
      lastProblem = `/health answered ${response.status} ${JSON.stringify(body)}`;
    } catch (err) {
      lastProblem = err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ""}` : String(err);
    }
    await Promise.race([delay(HEALTH_POLL_INTERVAL_MS), exited]);
  }
  throw new Error(`/health did not answer within ${timeoutMs} ms (last: ${lastProblem})`);
}

async function stopProcessGroup(child: ChildProcess, exited: Promise<Exit>): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  signalGroup(pid, "SIGTERM");
  const graceful = await Promise.race([exited.then(() => true), delay(STOP_GRACE_MS).then(() => false)]);
  // workerd may outlive the start script; make sure nothing of the group is left either way.
  signalGroup(pid, "SIGKILL");
  if (!graceful) await exited;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    // ESRCH: the group is already gone, which is what we want.
    if (!(err instanceof Error && "code" in err && err.code === "ESRCH")) throw err;
  }
}

/** Keeps the last `limit` characters of the server's output. */
class OutputLog {
  #text = "";
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  append(chunk: string): void {
    this.#text += chunk;
    if (this.#text.length > this.#limit) this.#text = this.#text.slice(-this.#limit);
  }

  text(): string {
    return this.#text;
  }

  tail(chars: number): string {
    return this.#text.slice(-chars);
  }
}
