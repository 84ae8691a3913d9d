// node bench/client-local.ts: local set() cost of the client SDK with each storage adapter, offline (no
// server), so only the local path is measured: the CRDT write, the op log and the storage commit.
import "fake-indexeddb/auto";
import { IDBAdapter } from "../client/storage/idb-adapter.ts";
import { MemoryAdapter } from "../client/storage/memory-adapter.ts";
import type { StorageAdapter } from "../client/storage/storage-adapter.ts";
import { TopGunClient } from "../client/topgun-client.ts";
import type { WebSocketLike } from "../client/web-socket.ts";

const BURST = Number(process.env.BURST ?? 10_000);
const SEQUENTIAL = Number(process.env.SEQUENTIAL ?? 500);
const VALUE = { title: "benchmark value", done: false, n: 0 };

/** A socket that never opens: the client stays offline and every write stays in the op log. */
function silentSocket(): WebSocketLike {
  return { binaryType: "arraybuffer", send() {}, close() {}, onopen: null, onmessage: null, onclose: null, onerror: null };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;

async function measure(label: string, storage: StorageAdapter): Promise<void> {
  const client = new TopGunClient({ serverUrl: "ws://offline.invalid", storage, webSocketFactory: silentSocket });
  await client.start();
  const map = client.getMap<typeof VALUE>("bench");
  await map.ready;

  // Burst: BURST set() calls in one go, then wait until they are all durable.
  const calls: number[] = [];
  const burstStart = performance.now();
  for (let i = 0; i < BURST; i++) {
    const t = performance.now();
    map.set(`k${i}`, { ...VALUE, n: i });
    calls.push(performance.now() - t);
  }
  const syncDone = performance.now();
  await client.flush();
  const durable = performance.now();
  calls.sort((a, b) => a - b);

  // Sequential: one write at a time, each awaited until it is in storage (write-to-durable latency).
  const durableLatencies: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t = performance.now();
    map.set(`s${i}`, { ...VALUE, n: i });
    await client.flush();
    durableLatencies.push(performance.now() - t);
  }
  durableLatencies.sort((a, b) => a - b);

  console.log(`${label}`);
  console.log(`  set() call      p50 ${us(percentile(calls, 50))}  p99 ${us(percentile(calls, 99))}  (${BURST} writes in a burst)`);
  console.log(`  burst           ${Math.round(BURST / ((syncDone - burstStart) / 1000)).toLocaleString("en")} set()/s in memory, ${Math.round(BURST / ((durable - burstStart) / 1000)).toLocaleString("en")} set()/s durable (${(durable - burstStart).toFixed(0)} ms)`);
  console.log(`  one at a time   set()→stored p50 ${us(percentile(durableLatencies, 50))}  p99 ${us(percentile(durableLatencies, 99))}  (${SEQUENTIAL} writes)`);
  console.log(`  op log          ${client.getPendingOpCount()} pending ops`);
  await client.close();
  await storage.close();
}

await measure("MemoryAdapter", new MemoryAdapter());
await measure("IDBAdapter (fake-indexeddb)", new IDBAdapter({ databaseName: `bench-${Date.now()}` }));
