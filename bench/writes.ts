import { percentiles, round } from "./measure.ts";
import { BenchSocket } from "./bench-socket.ts";

const BATCH = 100;
const WINDOW = 4; // batches in flight per connection
/** Keys per map the batches pick from at random (the load: 20,000). */
const KEY_SPACE = 20_000;
export const WRITE_SETTINGS = { batch: BATCH, window: WINDOW, keySpace: KEY_SPACE };

let nodeCounter = 0;
function batchOf(map: string, prefix: string, keySpace: number, id: number) {
  const nodeId = `bench-${nodeCounter++ % 1000}`;
  const now = Date.now();
  const ops = [];
  for (let i = 0; i < BATCH; i++) {
    const key = `${prefix}${Math.floor(Math.random() * keySpace)}`;
    ops.push({
      id: String(id * BATCH + i),
      mapName: map,
      key,
      opType: "PUT",
      record: { value: { n: i, text: "benchmark value", ok: true }, timestamp: { millis: now, counter: i, nodeId } },
    });
  }
  return { type: "OP_BATCH", payload: { ops } };
}

/**
 * Acknowledged ops/s of `connections` sockets each keeping `window` (default WINDOW) OP_BATCHes of 100 random keys
 * (of `keySpace` per map) in flight; with the batch latency (send → its OP_ACK) and the acknowledged ops of every
 * second. `token` authenticates the sockets.
 */
export async function throughput(
  wsUrl: (p: Record<string, string>) => string,
  connections: number,
  mapOf: (i: number) => string,
  durationMs: number,
  options: { keySpace?: number; warmUpBatches?: number; token?: string; window?: number; onMeasureStart?: () => void } = {},
) {
  const keySpace = options.keySpace ?? KEY_SPACE;
  const window = options.window ?? WINDOW;
  const { token } = options;
  const sockets = await Promise.all(
    Array.from({ length: connections }, (_, i) => BenchSocket.open(wsUrl({ map: mapOf(i), clientId: `bench-${i}` }), token)),
  );
  // Untimed: the first writes wake (and on a fresh server create) the objects, which a sharded map has 271 of.
  const warmUpStarted = Date.now();
  for (let n = 0; n < (options.warmUpBatches ?? 0); n++) {
    await Promise.all(sockets.map((socket, i) => {
      const acked = socket.next("OP_ACK", 120_000);
      socket.send(batchOf(mapOf(i), `k${i}-`, keySpace, 1_000_000 + n));
      return acked;
    }));
  }
  const warmUpMs = Date.now() - warmUpStarted;
  options.onMeasureStart?.();
  let acked = 0;
  let failed = 0;
  const end = Date.now() + durationMs;
  const started = Date.now();
  const latencies: number[] = [];
  const perSecond: number[] = [];
  // Acknowledged ops of each connection (a starved connection shows as a small share).
  const perConnection = sockets.map(() => 0);
  // The longest a connection went without an OP_ACK while it had batches in flight (a starved connection shows here).
  let longestAckGapMs = 0;
  await Promise.all(
    sockets.map(
      (socket, i) =>
        new Promise<void>((resolve, reject) => {
          let inFlight = 0;
          let id = 0;
          let lastAck = performance.now();
          // A connection's OP_ACKs come in the order of its batches.
          const sentAt: number[] = [];
          const pump = () => {
            while (inFlight < window && Date.now() < end) {
              sentAt.push(performance.now());
              socket.send(batchOf(mapOf(i), `k${i}-`, keySpace, id++));
              inFlight++;
            }
            if (inFlight === 0) resolve();
          };
          socket.onMessage((message) => {
            // A 429 of the op budget would repeat for every batch: fail loudly rather than measure refusals. A write
            // the server could not finish ("write failed; resend", e.g. during a reshard) ends its batch unacknowledged.
            if (message.type === "ERROR") {
              if (message.payload?.code === 429) return reject(new Error(`connection ${i} got ERROR ${JSON.stringify(message.payload)}`));
              inFlight--;
              failed += 1;
              sentAt.shift();
              pump();
              return;
            }
            if (message.type !== "OP_ACK") return;
            const now = performance.now();
            longestAckGapMs = Math.max(longestAckGapMs, now - lastAck);
            lastAck = now;
            inFlight--;
            acked += BATCH;
            perConnection[i] = (perConnection[i] ?? 0) + BATCH;
            latencies.push(performance.now() - (sentAt.shift() ?? 0));
            const second = Math.floor((Date.now() - started) / 1000);
            perSecond[second] = (perSecond[second] ?? 0) + BATCH;
            pump();
          });
          pump();
        }),
    ),
  );
  const seconds = (Date.now() - started) / 1000;
  for (const socket of sockets) socket.close();
  return {
    connections,
    ...(window !== WINDOW ? { window } : {}),
    ...(options.warmUpBatches ? { warmUpMs } : {}),
    ops: acked,
    ...(failed > 0 ? { failedBatches: failed } : {}),
    seconds: round(seconds),
    opsPerSecond: Math.round(acked / seconds),
    batchMs: percentiles(latencies),
    longestAckGapMs: round(longestAckGapMs),
    perSecond: Array.from(perSecond, (n) => n ?? 0),
    ...(connections > 1 ? { perConnection } : {}),
  };
}

