// Heap per LWW head in the owner's head index (objects/writes/lww-heads.ts) against the index's own estimate, which
// the isolate's cache budget (ISOLATE_CACHE_BUDGET) counts: 100,000 heads of the write benchmark's values, written (dirty)
// then compacted (clean), decoded from OP_BATCH-shaped frames as the server decodes them. Plain Node (8-byte
// pointers; workerd's compressed pointers make the real figure smaller, so the estimate errs on the safe side).
// Usage: node --expose-gc --experimental-strip-types bench/head-bytes.ts   (writes bench/results/head-bytes-<date>.json)
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeMessage, encodeMessage, encodeValue } from "../core/codec.ts";
import { IsolateBudget } from "../objects/storage/isolate-budget.ts";
import { estimatedHeadBytes, type LwwHead, LwwHeads } from "../objects/writes/lww-heads.ts";
import { PROJECT_ROOT } from "../test/support/server-harness.ts";

const HEADS = 100_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

type Op = { key: string; record: { value: unknown; timestamp: LwwHead["timestamp"] } };
const frames: Uint8Array[] = [];
for (let batch = 0; batch < HEADS / 100; batch++) {
  const ops = Array.from({ length: 100 }, (_, i) => ({
    key: `k${batch * 100 + i}`,
    record: { value: { n: i, text: "benchmark value", ok: true }, timestamp: { millis: Date.now(), counter: i, nodeId: `bench-${batch % 1000}` } },
  }));
  frames.push(encodeMessage(ops));
}

gc();
const heads = new LwwHeads(new IsolateBudget(Infinity, Infinity));
const start = process.memoryUsage().heapUsed;
let estimated = 0;
for (const frame of frames) {
  for (const op of decodeMessage(frame) as Op[]) {
    const head: LwwHead = { timestamp: op.record.timestamp, hash: 0x5bd1e995, leaf: 12, value: encodeValue(op.record.value), ttlMs: null };
    heads.write("m", op.key, head);
    estimated += estimatedHeadBytes(op.key, head);
  }
}
gc();
const dirty = process.memoryUsage().heapUsed - start;
for (const entry of heads.sortedDirty()) heads.markClean(entry);
gc();
const clean = process.memoryUsage().heapUsed - start;
const result = {
  at: new Date().toISOString(),
  node: process.version,
  heads: HEADS,
  heapBytesPerHead: { dirty: Math.round(dirty / HEADS), clean: Math.round(clean / HEADS) },
  estimatedBytesPerHead: Math.round(estimated / HEADS),
};
console.log(result);
const file = join(PROJECT_ROOT, "bench", "results", `head-bytes-${result.at.slice(0, 10)}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 1)}\n`);
console.log(`written ${file}`);
