#!/usr/bin/env node
// Starts the local edge server (wrangler dev with embedded Durable Object storage).
// Environment: PORT (default 8787), HOST, TOPGUN_STATE_DIR (default .state/default), JWT_SECRET, DATABASE_URL
// (Postgres write-through through a local Hyperdrive binding), and every other TOPGUN_* variable, which is passed to
// the Worker as a var (the README's configuration table lists them). Extra arguments are passed on to wrangler dev.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const port = process.env.PORT || "8787";
const stateDir = resolve(process.env.TOPGUN_STATE_DIR || join(root, ".state", "default"));
mkdirSync(stateDir, { recursive: true });

const vars = [];
const secret = process.env.JWT_SECRET;
const noAuth = process.env.TOPGUN_NO_AUTH === "1" || process.env.TOPGUN_NO_AUTH === "true";
const verifies = Boolean(secret || process.env.TOPGUN_JWKS_URL);
if (secret) vars.push(`JWT_SECRET:${secret}`);
if (noAuth || !verifies) {
  vars.push("TOPGUN_NO_AUTH:1");
  console.warn(
    noAuth
      ? "[topgun-edge] TOPGUN_NO_AUTH=1: authentication is off (local development only)."
      : "[topgun-edge] No JWT_SECRET or TOPGUN_JWKS_URL given: authentication is off. Set one to require tokens.",
  );
}
// TOPGUN_NO_AUTH is decided above; TOPGUN_STATE_DIR is this script's own.
const LOCAL_ONLY = new Set(["TOPGUN_STATE_DIR", "TOPGUN_NO_AUTH"]);
for (const [name, value] of Object.entries(process.env)) {
  if (name.startsWith("TOPGUN_") && !LOCAL_ONLY.has(name) && value !== undefined && value !== "") vars.push(`${name}:${value}`);
}

const childEnv = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl) {
  // wrangler's local Hyperdrive insists on a password in the URL; trust-auth servers ignore it.
  const url = new URL(databaseUrl);
  if (!url.password) url.password = "unused";
  childEnv.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE = url.toString();
}

const wrangler = join(root, "node_modules", "wrangler", "bin", "wrangler.js");
const args = [
  wrangler, "dev",
  "--config", join(root, "wrangler.toml"),
  "--port", port,
  "--ip", process.env.HOST || "127.0.0.1",
  "--persist-to", stateDir,
  "--inspector-port", process.env.INSPECTOR_PORT || "0",
  "--show-interactive-dev-session=false",
  "--log-level", process.env.WRANGLER_LOG || "warn",
  ...(databaseUrl ? ["--env", "postgres"] : []),
  ...vars.flatMap((v) => ["--var", v]),
  ...process.argv.slice(2),
];
// Wrangler needs Node >= 22.12: run it on the same Node that runs this script (the project's own node package).
const child = spawn(process.execPath, args, { cwd: root, stdio: "inherit", env: childEnv });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
