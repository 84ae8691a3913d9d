// The words the lab shows for a device's state, counts and timings: plain language, singular and plural right.
import type { ConnectionState } from "../client/index.ts";

const STATE_WORDS: Record<ConnectionState, string> = {
  INITIAL: "starting",
  CONNECTING: "connecting…",
  AUTHENTICATING: "signing in…",
  SYNCING: "syncing…",
  CONNECTED: "online",
  BACKOFF: "server unreachable, retrying…",
  AUTH_FAILED: "sign-in refused",
  DISCONNECTED: "closed",
};

/** The connection in a word or two; a device whose network switch is off is simply offline. */
export function stateText(state: ConnectionState, online: boolean): string {
  return online ? STATE_WORDS[state] : "offline";
}

/** Writes the server has not confirmed yet. */
export function pendingText(pendingOps: number): string {
  if (pendingOps === 0) return "all writes confirmed";
  return `${pendingOps} ${pendingOps === 1 ? "write" : "writes"} not yet confirmed`;
}

/** Failed connection attempts since the last success; nothing to say while there are none. */
export function attemptsText(attempts: number): string {
  if (attempts === 0) return "";
  return `${attempts} ${attempts === 1 ? "retry" : "retries"}`;
}

/**
 * A duration as people read it. Browsers round `performance.now()` to 0.1 ms (or coarser), so nothing finer is
 * shown: under 0.1 ms reads "< 0.1 ms", under 10 ms one decimal, then whole ms, then seconds.
 */
export function durationText(ms: number): string {
  if (ms < 0.1) return "< 0.1 ms";
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}
