// The owner's write path in plain Node, without the runtime: CrdtWriter (LWW store, Merkle sums, journal) over
// node:sqlite, applying OP_BATCHes of 100 random PUTs over 20,000 keys of one map, as the write benchmark sends them.
// Answers µs of CPU per op for the decode of the frame and for the apply; with --cpu-prof, a profile with line numbers.
// Usage: node --experimental-strip-types bench/write-path-cpu.ts [batches]
import { decodeMessage, encodeMessage } from "../core/codec.ts";
import { HLC } from "../core/hlc.ts";
import { nodeSqlPort } from "../test/support/node-sql-port.ts";
import { JournalService } from "../objects/journal/journal-service.ts";
import { applySchema } from "../objects/storage/schema.ts";
import { CrdtWriter } from "../objects/writes/crdt-writer.ts";
import { LwwStore } from "../objects/writes/lww-store.ts";
import { MerkleStore } from "../objects/writes/merkle-store.ts";
import { OrStore } from "../objects/writes/or-store.ts";
import type { LwwOwnerOp } from "../objects/writes/owner-op.ts";

const batches = Number(process.argv[2] ?? 3000);
const sql = nodeSqlPort();
applySchema(sql);
const merkle = new MerkleStore(sql);
const lww = new LwwStore(sql, merkle);
const or = new OrStore(sql, merkle);
const journal = new JournalService({ sql, partition: 5, deliver: async () => [] });
const writer = new CrdtWriter({ sql, lww, or, merkle, hlc: new HLC("edge-p5"), journal });

function frame(n: number): Uint8Array {
  const now = Date.now();
  const ops = Array.from({ length: 100 }, (_, i) => ({
    id: String(n * 100 + i), mapName: "bench", key: `k-${Math.floor(Math.random() * 20_000)}`, opType: "PUT",
    record: { value: { n: i, text: "benchmark value", ok: true }, timestamp: { millis: now, counter: i, nodeId: `bench-${n % 1000}` } },
  }));
  return encodeMessage({ type: "OP_BATCH", payload: { ops } });
}

const frames = Array.from({ length: 200 }, (_, n) => frame(n));
let decodeMs = 0;
let applyMs = 0;
for (let n = 0; n < batches; n++) {
  const t0 = performance.now();
  const message = decodeMessage(frames[n % frames.length]!) as { payload: { ops: { mapName: string; key: string; opType: "PUT"; record: LwwOwnerOp["record"] }[] } };
  const t1 = performance.now();
  const ops = message.payload.ops.map((op, index) => ({ index, type: op.opType, map: op.mapName, key: op.key, record: op.record }) as LwwOwnerOp);
  writer.apply(ops);
  if (n % 50 === 49) while (lww.compactStep());
  const t2 = performance.now();
  if (n >= batches / 5) {
    decodeMs += t1 - t0;
    applyMs += t2 - t1;
  }
}
const measured = (batches - Math.ceil(batches / 5)) * 100;
console.log({ decodeUsPerOp: Math.round((1000 * decodeMs) / measured * 100) / 100, applyUsPerOp: Math.round((1000 * applyMs) / measured * 100) / 100 });
