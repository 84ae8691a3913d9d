#!/usr/bin/env node
// Starts the local edge server (wrangler dev with embedded Durable Object storage).
// Environment: PORT (default 8787), TOPGUN_STATE_DIR (default .state/default), JWT_SECRET, TOPGUN_NO_AUTH=1,
// TOPGUN_SHARDED_MAPS ("name:shards,..."), DATABASE_URL (Postgres write-through through a local Hyperdrive binding).
// Extra arguments are passed on to wrangler dev.
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
if (secret) vars.push(`JWT_SECRET:${secret}`);
if (noAuth || !secret) {
  vars.push("TOPGUN_NO_AUTH:1");
  console.warn(
    noAuth
      ? "[topgun-edge] TOPGUN_NO_AUTH=1: authentication is off (local development only)."
      : "[topgun-edge] No JWT_SECRET given: authentication is off. Set JWT_SECRET to require HS256 tokens.",
  );
}
if (process.env.TOPGUN_SHARDED_MAPS) vars.push(`TOPGUN_SHARDED_MAPS:${process.env.TOPGUN_SHARDED_MAPS}`);

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
