// 300 clients connect and authenticate at once (issue #16): the time from opening each WebSocket to its AUTH_ACK,
// with real JWTs (HS256, one user each) against a server that verifies them. The first round reaches homes that do
// not exist yet (their objects start); the next rounds reconnect the same clients (same homes, objects running).
import { startServer } from "../test/support/server-harness.ts";
import { signToken } from "../test/support/tokens.ts";
import { BenchSocket } from "./bench-socket.ts";
import { percentiles, round } from "./measure.ts";
import { cpuDelta, serverCpuMs } from "./cpu-of-server.ts";

export const CONNECT_SECRET = "bench-connect-secret";
export const CONNECT_CLIENTS = 300;
const ROUNDS = 3;

const sign = (sub: string) => signToken({ secret: CONNECT_SECRET, sub });

/** A token for each of the CONNECT_CLIENTS users. */
export function connectTokens(): Promise<string[]> {
  return Promise.all(Array.from({ length: CONNECT_CLIENTS }, (_, i) => sign(`bench-user-${i}`)));
}

/** One round: every client opens its socket at the same moment; answers each one's open → AUTH_ACK time (ms). */
export async function connectAll(wsUrl: (params: Record<string, string>) => string, tokens: readonly string[], stamp: number) {
  const started = performance.now();
  const sockets: BenchSocket[] = [];
  const samples = await Promise.all(
    tokens.map(async (token, i) => {
      const t0 = performance.now();
      const socket = await BenchSocket.open(wsUrl({ clientId: `bench-connect-${stamp}-${i}` }), token);
      sockets.push(socket);
      return performance.now() - t0;
    }),
  );
  const wallMs = performance.now() - started;
  for (const socket of sockets) socket.close();
  return { ...percentiles(samples), allConnectedMs: round(wallMs) };
}

export async function connectCost(options: { server?: { wsUrl: (params: Record<string, string>) => string } } = {}) {
  const own = options.server ? undefined : await startServer({ jwtSecret: CONNECT_SECRET });
  const wsUrl = options.server?.wsUrl ?? own!.wsUrl;
  try {
    const tokens = await connectTokens();
    const stamp = Date.now();
    const rounds = [];
    for (let r = 0; r < ROUNDS; r++) {
      const cpuBefore = own ? serverCpuMs(own.stateDir) : {};
      const clientCpu = process.cpuUsage();
      const measured = await connectAll(wsUrl, tokens, stamp);
      const usage = process.cpuUsage(clientCpu);
      rounds.push({
        ...measured,
        // CPU ms used during the round by the server's processes and by this client process (the machine is shared).
        cpuMs: { ...(own ? cpuDelta(cpuBefore, serverCpuMs(own.stateDir)) : {}), benchClient: Math.round((usage.user + usage.system) / 1000) },
      });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    return { clients: CONNECT_CLIENTS, openToAuthAckMs: { newHomes: rounds[0], runningHomes: rounds.slice(1) } };
  } finally {
    await own?.stop();
  }
}
