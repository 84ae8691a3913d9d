// A server killed with SIGKILL (its whole process group: wrangler and workerd) while the LWW write log holds
// uncompacted batches, or while compactions run, restarts on the same state and still holds every write it
// acknowledged, with Merkle roots equal to a tree rebuilt from the records.
import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { LWWMap, type LWWRecord } from "../../core/lww-map.ts";
import { lwwEntryHash, MerkleTree } from "../../core/merkle-tree.ts";
import { clientSync } from "../support/merkle-sync-client.ts";
import { startServer, type RunningServer } from "../support/server-harness.ts";
import { lwwPut, lwwRemove, TestClient } from "../support/ws-client.ts";

const BATCH = 500;
const WINDOW = 4;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serverOn(stateDir: string): Promise<RunningServer> {
  const server = await startServer({ noAuth: true, stateDir });
  cleanups.push(() => server.stop());
  return server;
}

async function freshStateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "topgun-crash-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Writes batches of BATCH ops (a tombstone every 50th op) with WINDOW batches in flight until `stopAfter` answers
 * true for an acknowledged count; answers what was acknowledged. Writes still in flight then are not waited for.
 */
async function writeUntil(client: TestClient, map: string, stopAfter: (acked: number) => boolean): Promise<Map<string, LWWRecord>> {
  const hlc = new HLC("crash-writer");
  const acked = new Map<string, LWWRecord>();
  let next = 0;
  let done = false;
  const inFlight = new Set<Promise<void>>();
  while (!done) {
    const records = Array.from({ length: BATCH }, (_, i): [string, LWWRecord] => {
      const n = next * BATCH + i;
      return [`k${n % 60_000}`, { value: n % 50 === 0 ? null : { n, text: "crash test" }, timestamp: hlc.now() }];
    });
    const ops = records.map(([key, record], i) =>
      record.value === null ? lwwRemove(map, key, record.timestamp, { id: `${next}-${i}` }) : lwwPut(map, key, record.value, record.timestamp, { id: `${next}-${i}` }),
    );
    next++;
    const write: Promise<void> = client.write(ops, { timeoutMs: 60_000 }).then(() => {
      inFlight.delete(write);
      for (const [key, record] of records) acked.set(key, record);
      if (stopAfter(acked.size)) done = true;
    });
    inFlight.add(write);
    if (inFlight.size >= WINDOW) await Promise.race(inFlight);
  }
  return acked;
}

/** Rows in lww_log of every Durable Object database under a (killed) server's state directory. */
function loggedBatches(stateDir: string): number {
  let rows = 0;
  for (const file of readdirSync(stateDir, { recursive: true, encoding: "utf8" })) {
    if (!file.endsWith(".sqlite")) continue;
    const db = new DatabaseSync(join(stateDir, file));
    try {
      const hasLog = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'lww_log'").all().length > 0;
      if (hasLog) rows += Number(db.prepare("SELECT COUNT(*) AS n FROM lww_log").get()?.n ?? 0);
    } finally {
      db.close();
    }
  }
  return rows;
}

/** A fresh client's Merkle pull of `map`: every acknowledged record is there, and the roots agree. */
async function expectEveryAckedWrite(server: RunningServer, map: string, acked: Map<string, LWWRecord>): Promise<void> {
  const reader = await TestClient.connect(server.wsUrl({ map }), { autoAuth: true });
  cleanups.push(async () => reader.close());
  const local = new LWWMap(new HLC("crash-reader"));
  const sync = await clientSync(reader, map, local, { timeoutMs: 60_000 });
  const missing = [...acked].filter(([key, record]) => {
    const held = local.getRecord(key);
    return !held || held.timestamp.millis < record.timestamp.millis ||
      (held.timestamp.millis === record.timestamp.millis && held.timestamp.counter < record.timestamp.counter);
  });
  expect(missing.length, `acknowledged writes missing after the restart, e.g. ${missing[0]?.[0]}`).toBe(0);
  const rebuilt = new MerkleTree();
  for (const { key, record } of sync.records) rebuilt.update(key, lwwEntryHash(key, record.timestamp));
  expect(sync.serverRoot).toBe(rebuilt.getRootHash());
  expect(local.merkleTree.getRootHash()).toBe(sync.serverRoot);
}

describe("a server killed mid-write", () => {
  it("keeps every acknowledged write when killed while the write log holds uncompacted batches", async () => {
    const stateDir = await freshStateDir();
    const map = "crash-log";
    const first = await serverOn(stateDir);
    const writer = await TestClient.connect(first.wsUrl({ map }), { autoAuth: true });
    const acked = await writeUntil(writer, map, (n) => n >= 5_000);
    await first.kill();
    expect(loggedBatches(stateDir)).toBeGreaterThan(0);

    const second = await serverOn(stateDir);
    await expectEveryAckedWrite(second, map, acked);
  }, 240_000);

  it("keeps every acknowledged write when killed while compactions run", async () => {
    const stateDir = await freshStateDir();
    const map = "crash-compaction";
    const first = await serverOn(stateDir);
    const writer = await TestClient.connect(first.wsUrl({ map }), { autoAuth: true });
    // 41,000 distinct keys in ~10 s: the alarm compacts the log in steps of 2,000 heads from ~2 s after the first
    // write on, and a write that takes the log past 20,000 heads compacts it whole in its transaction, so at the kill
    // (four batches in flight) a compaction step is likely under way.
    const acked = await writeUntil(writer, map, (n) => n >= 41_000);
    await first.kill();

    const second = await serverOn(stateDir);
    await expectEveryAckedWrite(second, map, acked);
  }, 240_000);
});
