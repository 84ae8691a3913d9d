import { LEAF_COUNT } from "../../core/merkle-tree.ts";
import { partitionOf, partitionsOfMap } from "../../core/placement.ts";
import type { MoveAnswer, MoveStep, MovedOrEntry, MovedSubscriptions } from "../migration/move-step.ts";
import type { MovedRecord } from "../migration/staging-store.ts";
import type { RunningReshard, ShardStore } from "./shard-store.ts";

/** Records per page of the copy (an old owner's leaf range, or its noted keys). */
export const COPY_PAGE_RECORDS = 2_000;
/** OR-Map keys per page of the copy of an old owner's OR-Map entries. */
const COPY_PAGE_OR_KEYS = 500;
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
 *    and tombstones) are copied in leaf order, then its OR-Map entries (records and tombstones) in key order, to the
 *    staging copies of their new owners; then the noted keys are copied again, a few rounds, while clients keep
 *    writing (merges are HLC-ordered and OR-Map merges add-wins: a copy never undoes a newer write).
 * 2. `holding`: every partition of both placements holds the map's writes, subscriptions and reads (they wait at
 *    the owner, nothing is refused), and the last noted keys are copied.
 * 3. `cutover`: the subscriptions of the old owners are registered at every new owner, and each partition keeps
 *    only its keys under S' and merges its staging copy (one transaction each).
 * 4. `releasing`: with the new count committed, the holds are let go; what waited meets the new fence and is placed
 *    again by its home.
 *
 * The copy runs in slices (`advance` returns after about a slice of work, and the control object's alarm calls it
 * again): a control object that awaited a whole move in one call chain answered nothing else until it ended under
 * `wrangler dev`, where every object shares one thread and the move's calls between objects never let it read the
 * network. The hold, the cut-over and the release run in one slice, so the map is held no longer than they take.
 */
export class MapMigration {
  readonly #store: ShardStore;
  readonly #move: MovePartition;
  readonly #clock: () => number;
  /** Rounds of noted keys copied per map by this instance (a restart counts again: at most a few rounds more). */
  readonly #rounds = new Map<string, number>();

  constructor(deps: { store: ShardStore; move: MovePartition; clock?: () => number }) {
    this.#store = deps.store;
    this.#move = deps.move;
    this.#clock = deps.clock ?? Date.now;
  }

  /**
   * Advances the migration from its current phase: the copy stops at the first page boundary after `until` (each old
   * owner's copy moves at least one page a call) and answers false; once it is copied, the hold, the cut-over and the
   * release run to the end and it answers true (the caller then records the outcome).
   */
  async advance(running: RunningReshard, until: number): Promise<boolean> {
    const { map, fromShards, toShards } = running;
    const old = placement(map, fromShards);
    const next = placement(map, toShards);
    const every = [...new Set([...old, ...next])];
    let phase = running.phase;
    if (phase === "checking" || phase === "copying") {
      if (!this.#store.copyStarted(map)) {
        // The cursors are created once every old owner notes its writes: a write after them is copied again.
        await Promise.all(old.map((p) => this.#move(p, { op: "track", map })));
        this.#store.copyCursors(map, old);
        this.#store.orCopyCursors(map, old);
      }
      if (!(await this.#copyLeaves(running, old, until))) return false;
      if (!(await this.#copyOrEntries(running, old, until))) return false;
      for (let round = this.#rounds.get(map) ?? 0; round < DIRTY_ROUNDS_BEFORE_HOLD; round++) {
        if (this.#clock() >= until) return false;
        this.#rounds.set(map, round + 1);
        if ((await this.#copyNoted(running, old)) < DIRTY_SMALL_ROUND) break;
      }
      this.#rounds.delete(map);
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
    return true;
  }

  /** Copies the old owners' records, a leaf range at a time, from where each cursor stands; true once all are copied. */
  async #copyLeaves(running: RunningReshard, old: readonly number[], until: number): Promise<boolean> {
    const pending = this.#store.copyCursors(running.map, old).filter((c) => c.nextLeaf < LEAF_COUNT);
    let finished = 0;
    await this.#eachOwner(pending, until, async ({ partition, nextLeaf }) => {
      for (let leaf = nextLeaf; ; ) {
        const page = await this.#move(partition, { op: "export", map: running.map, fromLeaf: leaf, limit: COPY_PAGE_RECORDS });
        if (page.op !== "export") throw new Error(`partition ${partition} answered ${page.op} to an export`);
        const sent = await this.#stage(running, partition, page.records, []);
        this.#store.advanceCopy(running.map, partition, page.nextLeaf, sent);
        if (page.nextLeaf >= LEAF_COUNT) return void finished++;
        leaf = page.nextLeaf;
        if (this.#clock() >= until) return;
      }
    });
    return finished === pending.length;
  }

  /** Copies the old owners' OR-Map entries, a page of keys at a time, from where each cursor stands; true once all are. */
  async #copyOrEntries(running: RunningReshard, old: readonly number[], until: number): Promise<boolean> {
    const pending = this.#store.orCopyCursors(running.map, old).filter((c) => !c.done);
    let finished = 0;
    await this.#eachOwner(pending, until, async ({ partition, after: from }) => {
      for (let after = from; ; ) {
        const page = await this.#move(partition, { op: "exportOr", map: running.map, after, limit: COPY_PAGE_OR_KEYS });
        if (page.op !== "exportOr") throw new Error(`partition ${partition} answered ${page.op} to an OR-Map export`);
        const sent = await this.#stage(running, partition, [], page.entries);
        this.#store.advanceOrCopy(running.map, partition, page, sent);
        if (page.done) return void finished++;
        after = page.after;
        if (this.#clock() >= until) return;
      }
    });
    return finished === pending.length;
  }

  /** Runs `copy` for each old owner, a few at once; no owner is started after `until`. */
  async #eachOwner<T>(owners: readonly T[], until: number, copy: (owner: T) => Promise<void>): Promise<void> {
    const queue = [...owners];
    await Promise.all(
      Array.from({ length: Math.min(COPY_CONCURRENCY, queue.length) }, async () => {
        for (let owner = queue.shift(); owner !== undefined; owner = this.#clock() < until ? queue.shift() : undefined) await copy(owner);
      }),
    );
  }

  /** One round of copying the keys the old owners noted; answers how many records it copied. */
  async #copyNoted(running: RunningReshard, old: readonly number[]): Promise<number> {
    const counts = await Promise.all(
      old.map(async (partition) => {
        const page = await this.#move(partition, { op: "dirty", map: running.map, limit: COPY_PAGE_RECORDS });
        if (page.op !== "dirty") throw new Error(`partition ${partition} answered ${page.op} to a dirty read`);
        if (page.records.length > 0 || page.orEntries.length > 0) await this.#stage(running, partition, page.records, page.orEntries);
        if (page.upToSeq > 0) await this.#move(partition, { op: "clearDirty", map: running.map, upToSeq: page.upToSeq });
        return page.upToSeq > 0 ? Math.max(page.records.length + page.orEntries.length, 1) : 0;
      }),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /**
   * Sends records and OR-Map entries of old owner `from` to the staging copies of their new owners; answers how many
   * records (and OR-Map records and tombstones) it sent. A key whose new owner is its old one stays where it is: it
   * never leaves the map's tables. Tombstones no key held go to every new owner (a tombstone of a tag no key holds
   * removes nothing).
   */
  async #stage(running: RunningReshard, from: number, records: readonly MovedRecord[], orEntries: readonly MovedOrEntry[]): Promise<number> {
    const config = new Map([[running.map, running.toShards]]);
    const byOwner = new Map<number, { records: MovedRecord[]; orEntries: MovedOrEntry[] }>();
    const batchOf = (owner: number) => {
      let batch = byOwner.get(owner);
      if (!batch) byOwner.set(owner, (batch = { records: [], orEntries: [] }));
      return batch;
    };
    for (const record of records) {
      const owner = partitionOf(config, running.map, record.key);
      if (owner !== from) batchOf(owner).records.push(record);
    }
    for (const entry of orEntries) {
      const owners = entry.key === null ? placement(running.map, running.toShards) : [partitionOf(config, running.map, entry.key)];
      for (const owner of owners) if (owner !== from) batchOf(owner).orEntries.push(entry);
    }
    await Promise.all(
      [...byOwner].map(([owner, batch]) =>
        this.#move(owner, { op: "stage", map: running.map, records: batch.records, ...(batch.orEntries.length > 0 ? { orEntries: batch.orEntries } : {}) }),
      ),
    );
    let sent = 0;
    for (const batch of byOwner.values()) sent += batch.records.length + batch.orEntries.reduce((sum, e) => sum + e.records.length + e.tombstones.length, 0);
    return sent;
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
