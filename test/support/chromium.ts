// Debian's Chromium for the browser tests: installed with apt when missing (CI machines are fresh), launched
// through playwright-core with flags that keep it quiet, offline-friendly and sandbox-free (tests run as root).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";
const APT_TIMEOUT_MS = 15 * 60_000;

const run = promisify(execFile);

/** Installs Debian's `chromium` package unless it is there already; needs root (CI and these machines run as root). */
export async function ensureChromium(): Promise<string> {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const options = { env, timeout: APT_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 };
  try {
    await run("apt-get", ["update", "-qq"], options);
    await run("apt-get", ["install", "-y", "-qq", "chromium"], options);
  } catch (err) {
    const detail = err instanceof Error && "stderr" in err ? String(err.stderr) : String(err);
    throw new Error(`could not install chromium with apt-get (the browser tests need root and Debian's packages): ${detail}`);
  }
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`apt-get installed chromium but ${CHROMIUM_PATH} is missing`);
  return CHROMIUM_PATH;
}

/** Launches headless Chromium (playwright gives it a fresh temporary profile). */
export function launchChromium(executablePath: string = CHROMIUM_PATH): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
