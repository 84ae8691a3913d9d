import { LEAF_COUNT } from "../../core/merkle-tree.ts";
import { partitionOf, partitionsOfMap } from "../../core/placement.ts";
import type { MoveAnswer, MoveStep, MovedSubscriptions } from "../migration/move-step.ts";
import type { MovedRecord } from "../migration/staging-store.ts";
import type { RunningReshard, ShardStore } from "./shard-store.ts";

/** Records per page of the copy (an old owner's leaf range, or its noted keys). */
export const COPY_PAGE_RECORDS = 2_000;
/** Rounds of copying noted keys again before the map is held; the last round runs under the hold. */
const DIRTY_ROUNDS_BEFORE_HOLD = 8;
/** A round that copied fewer noted keys than this is short enough to finish under the hold. */
const DIRTY_SMALL_ROUND = 200;
/** Old owners copied at once. */
const COPY_CONCURRENCY = 8;

/** Sends one move step to a partition (Partition.ownerMove, by RPC from the control object). */
export type MovePartition = (partition: number, step: MoveStep) => Promise<MoveAnswer>;

/**
 * The control object's side of moving a map that holds data or subscribers from S to S' shards (docs/resharding.md).
 * Each phase is a loop of idempotent steps whose progress is in the control object's SQLite (the phase, and a leaf
 * cursor per old owner), so the alarm resumes a migration wherever a crash of the control object or of a partition
 * stopped it:
 *
 * 1. `copying`: the old owners note the keys every write names from now on; each old owner's records (LWW records
 *    and tombstones) are copied in leaf order to the staging copies of their new owners; then the noted keys are
 *    copied again, a few rounds, while clients keep writing (merges are HLC-ordered: a copy never undoes a newer
 *    record).
 * 2. `holding`: every partition of both placements holds the map's writes, subscriptions and reads (they wait at
 *    the owner, nothing is refused), and the last noted keys are copied.
 * 3. `cutover`: the subscriptions of the old owners are registered at every new owner, and each partition keeps
 *    only its keys under S' and merges its staging copy (one transaction each).
 * 4. `releasing`: with the new count committed, the holds are let go; what waited meets the new fence and is placed
 *    again by its home.
 */
export class MapMigration {
  readonly #store: ShardStore;
  readonly #move: MovePartition;

  constructor(deps: { store: ShardStore; move: MovePartition }) {
    this.#store = deps.store;
    this.#move = deps.move;
  }

  /** Runs the migration from its current phase to the end of `releasing` (the caller then records the outcome). */
  async run(running: RunningReshard): Promise<void> {
    const { map, fromShards, toShards } = running;
    const old = placement(map, fromShards);
    const next = placement(map, toShards);
    const every = [...new Set([...old, ...next])];
    let phase = running.phase;
    if (phase === "checking" || phase === "copying") {
      await Promise.all(old.map((p) => this.#move(p, { op: "track", map })));
      await this.#copyLeaves(running, old);
      for (let round = 0; round < DIRTY_ROUNDS_BEFORE_HOLD; round++) {
        if ((await this.#copyNoted(running, old)) < DIRTY_SMALL_ROUND) break;
      }
      this.#store.setPhase(map, (phase = "holding"));
    }
    if (phase === "holding") {
      await Promise.all(every.map((p) => this.#move(p, { op: "hold", map })));
      while ((await this.#copyNoted(running, old)) > 0);
      this.#store.setPhase(map, (phase = "cutover"));
    }
    if (phase === "cutover") {
      const adopt = mergeSubscriptions(await Promise.all(old.map((p) => this.#move(p, { op: "subscriptions", map }))));
      // New owners first: an old owner drops its subscriptions only once every new owner holds them.
      await Promise.all(next.map((p) => this.#move(p, { op: "cutOver", map, toShards, adopt })));
      await Promise.all(old.filter((p) => !next.includes(p)).map((p) => this.#move(p, { op: "cutOver", map, toShards })));
      this.#store.commit(map, toShards);
      phase = "releasing";
    }
    if (phase === "releasing") await Promise.all(every.map((p) => this.#move(p, { op: "release", map })));
  }

  /** Copies every old owner's records, a leaf range at a time, from where its cursor stands. */
  async #copyLeaves(running: RunningReshard, old: readonly number[]): Promise<void> {
    const pending = this.#store.copyCursors(running.map, old).filter((c) => c.nextLeaf < LEAF_COUNT);
    const copyOne = async (partition: number, fromLeaf: number) => {
      for (let leaf = fromLeaf; leaf < LEAF_COUNT; ) {
        const page = await this.#move(partition, { op: "export", map: running.map, fromLeaf: leaf, limit: COPY_PAGE_RECORDS });
        if (page.op !== "export") throw new Error(`partition ${partition} answered ${page.op} to an export`);
        const sent = await this.#stage(running, partition, page.records);
        this.#store.advanceCopy(running.map, partition, page.nextLeaf, sent);
        leaf = page.nextLeaf;
      }
    };
    const queue = [...pending];
    await Promise.all(
      Array.from({ length: Math.min(COPY_CONCURRENCY, queue.length) }, async () => {
        for (let cursor = queue.shift(); cursor; cursor = queue.shift()) await copyOne(cursor.partition, cursor.nextLeaf);
      }),
    );
  }

  /** One round of copying the keys the old owners noted; answers how many records it copied. */
  async #copyNoted(running: RunningReshard, old: readonly number[]): Promise<number> {
    const counts = await Promise.all(
      old.map(async (partition) => {
        const page = await this.#move(partition, { op: "dirty", map: running.map, limit: COPY_PAGE_RECORDS });
        if (page.op !== "dirty") throw new Error(`partition ${partition} answered ${page.op} to a dirty read`);
        if (page.records.length > 0) await this.#stage(running, partition, page.records);
        if (page.upToSeq > 0) await this.#move(partition, { op: "clearDirty", map: running.map, upToSeq: page.upToSeq });
        return page.upToSeq > 0 ? Math.max(page.records.length, 1) : 0;
      }),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /** Sends records of old owner `from` to the staging copies of their new owners; answers how many it sent. */
  async #stage(running: RunningReshard, from: number, records: readonly MovedRecord[]): Promise<number> {
    const config = new Map([[running.map, running.toShards]]);
    const byOwner = new Map<number, MovedRecord[]>();
    for (const record of records) {
      const owner = partitionOf(config, running.map, record.key);
      // A key whose new owner is its old one stays where it is: its record never leaves the map's tables.
      if (owner === from) continue;
      const list = byOwner.get(owner);
      if (list) list.push(record);
      else byOwner.set(owner, [record]);
    }
    await Promise.all([...byOwner].map(([owner, list]) => this.#move(owner, { op: "stage", map: running.map, records: list })));
    return [...byOwner.values()].reduce((sum, list) => sum + list.length, 0);
  }
}

function placement(map: string, shards: number): number[] {
  return partitionsOfMap(new Map([[map, shards]]), map);
}

/** One of each subscription the old owners hold (a subscription on a sharded map is at every one of its shards). */
function mergeSubscriptions(answers: readonly MoveAnswer[]): MovedSubscriptions {
  const merged: MovedSubscriptions = { queries: [], searches: [], journals: [], listeners: [] };
  const seen = new Set<string>();
  const once = (id: string) => !seen.has(id) && Boolean(seen.add(id));
  for (const answer of answers) {
    if (answer.op !== "subscriptions") continue;
    const { queries, searches, journals, listeners } = answer.subscriptions;
    merged.queries.push(...queries.filter((s) => once(`q|${s.subscriber.home}|${s.subscriber.conn}|${s.queryId}`)));
    merged.searches.push(...searches.filter((s) => once(`s|${s.subscriber.home}|${s.subscriber.conn}|${s.subscriptionId}`)));
    merged.journals.push(...journals.filter((s) => once(`j|${s.subscriber.home}|${s.subscriber.conn}|${s.subscriptionId}`)));
    merged.listeners.push(...listeners.filter((s) => once(`l|${s.kind}|${s.home}|${s.conn}`)));
  }
  return merged;
}
