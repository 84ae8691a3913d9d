// HTTP plane throughput: POST /sync (msgpack, 100 ops a request) and /v1 (one PUT a request, and /v1/batch of 100),
// each with CONCURRENCY requests in flight, against a running server without authentication.
import { encodeMessage } from "../core/codec.ts";
import { round } from "./measure.ts";

const CONCURRENCY = 8;
const OPS_PER_REQUEST = 100;
export const HTTP_SETTINGS = { concurrency: CONCURRENCY, opsPerRequest: OPS_PER_REQUEST };

interface Throughput {
  requests: number;
  ops: number;
  failed: number;
  seconds: number;
  requestsPerSecond: number;
  opsPerSecond: number;
}

/** Keeps CONCURRENCY requests in flight for `durationMs`; each request made by `send` carries `ops` ops. */
async function measure(durationMs: number, ops: number, send: (seq: number) => Promise<Response>): Promise<Throughput> {
  let requests = 0;
  let failed = 0;
  let seq = 0;
  const started = Date.now();
  const end = started + durationMs;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const response = await send(seq++);
        await response.arrayBuffer();
        if (response.ok) requests++;
        else failed++;
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  return { requests, ops: requests * ops, failed, seconds: round(seconds), requestsPerSecond: Math.round(requests / seconds), opsPerSecond: Math.round((requests * ops) / seconds) };
}

function syncBody(map: string, seq: number): Uint8Array {
  const now = Date.now();
  const nodeId = `bench-http-${seq % 1000}`;
  const operations = Array.from({ length: OPS_PER_REQUEST }, (_, i) => ({
    id: `${seq}-${i}`,
    mapName: map,
    key: `k${Math.floor(Math.random() * 100_000)}`,
    opType: "PUT",
    record: { value: { n: i, text: "benchmark value", ok: true }, timestamp: { millis: now, counter: i, nodeId } },
  }));
  return encodeMessage({ clientId: `bench-http-${seq % CONCURRENCY}`, clientHlc: { millis: now, counter: 0, nodeId }, operations });
}

/** Requests/s and ops/s of POST /sync, PUT /v1/maps/{map}/records/{key} and POST /v1/batch. */
export async function httpThroughput(baseUrl: string, durationMs: number) {
  const stamp = Date.now();
  const json = { "Content-Type": "application/json" };
  return {
    sync100: await measure(durationMs, OPS_PER_REQUEST, (seq) =>
      fetch(new URL("/sync", baseUrl), { method: "POST", headers: { "Content-Type": "application/msgpack" }, body: syncBody(`bench-sync-${stamp}`, seq) }),
    ),
    v1Put: await measure(durationMs, 1, (seq) =>
      fetch(new URL(`/v1/maps/bench-v1-${stamp}/records/k${seq % 100_000}`, baseUrl), { method: "PUT", headers: json, body: JSON.stringify({ value: { n: seq, text: "benchmark value" } }) }),
    ),
    v1Batch100: await measure(durationMs, OPS_PER_REQUEST, (seq) =>
      fetch(new URL("/v1/batch", baseUrl), {
        method: "POST",
        headers: json,
        body: JSON.stringify({ ops: Array.from({ length: OPS_PER_REQUEST }, (_, i) => ({ map: `bench-batch-${stamp}`, key: `k${Math.floor(Math.random() * 100_000)}`, value: { n: i, seq } })) }),
      }),
    ),
  };
}
