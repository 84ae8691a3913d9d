// The runtime's echo ceiling: bench/echo/echo-worker.ts under wrangler dev, driven by the same write load as the
// real server (bench/writes.ts), so every throughput can be reported as a share of what the runtime carries today.
import { webSocketUrl } from "../test/support/server-harness.ts";
import { startSideWorker } from "./side-worker.ts";

export interface EchoServer {
  wsUrl(params?: Record<string, string>): string;
  stop(): Promise<void>;
}

export async function startEchoServer(): Promise<EchoServer> {
  const { url, stop } = await startSideWorker("echo");
  return { wsUrl: (params) => webSocketUrl(url, params), stop };
}

/** A throughput as a share of the ceiling, in percent. */
export function shareOf(opsPerSecond: number, ceiling: number): number {
  return Math.round((1000 * opsPerSecond) / ceiling) / 10;
}
