import { partitionsOfMap, type ShardConfig } from "../../core/placement.ts";
import type { MapOccupancy } from "../placement/map-fence.ts";
import type { ReshardOutcome, RunningReshard, ShardStore } from "./shard-store.ts";

/** How soon the alarm resumes a reshard that has not finished (the control object may have restarted mid-way). */
export const RESHARD_RESUME_MS = 2_000;

/** What the partitions of a map are asked during a reshard (by RPC, from the control object). */
export interface ReshardTargets {
  /** What the partition holds of the map, changing nothing. */
  inspect(partition: number, map: string): Promise<MapOccupancy>;
  /** Fences the map at `shards` on the partition and reports what it holds of it. */
  fence(partition: number, map: string, shards: number): Promise<MapOccupancy>;
}

/** The answer to a reshard request. */
export type ReshardAnswer =
  | { status: "unchanged"; shards: number }
  | { status: "busy"; running: RunningReshard }
  | { status: "done"; fromShards: number; toShards: number }
  | { status: "refused"; fromShards: number; toShards: number; reason: string };

/**
 * The control object's side of a reshard (docs/resharding.md). Today a map changes its shard count only while no
 * partition holds data or subscribers of it: the partitions of the old and the new placement are checked, then
 * fenced at the new count (each fence and its look at the data are one transaction, so a write placed by the old
 * count either came before and is seen, or comes after and is refused), and the count is committed. A map that holds
 * data is refused with a reason and its partitions are fenced back. Every step is idempotent and the state is in
 * SQLite, so the alarm resumes a reshard the object did not finish.
 */
export class Resharder {
  readonly #store: ShardStore;
  readonly #defaults: () => ShardConfig;
  readonly #targets: ReshardTargets;
  readonly #clock: () => number;
  readonly #wakeAt: (at: number) => Promise<void>;

  constructor(deps: { store: ShardStore; defaults: () => ShardConfig; targets: ReshardTargets; clock?: () => number; wakeAt: (at: number) => Promise<void> }) {
    this.#store = deps.store;
    this.#defaults = deps.defaults;
    this.#targets = deps.targets;
    this.#clock = deps.clock ?? Date.now;
    this.#wakeAt = deps.wakeAt;
  }

  /** The map's shard count now: the namespace's own, else the deployment's default. */
  shardsOf(map: string): number {
    return this.#store.countOf(map) ?? this.#defaults().get(map) ?? 1;
  }

  /** Moves `map` to `shards` shards (the caller validated 1..271). */
  async reshard(map: string, shards: number): Promise<ReshardAnswer> {
    const running = this.#store.running(map);
    if (running) return { status: "busy", running };
    const fromShards = this.shardsOf(map);
    if (fromShards === shards) return { status: "unchanged", shards };
    const startedAt = this.#clock();
    if (!this.#store.begin({ map, fromShards, toShards: shards, startedAt })) {
      const now = this.#store.running(map);
      if (now) return { status: "busy", running: now };
    }
    await this.#wakeAt(startedAt + RESHARD_RESUME_MS);
    return this.#advance(map);
  }

  /**
   * Resumes every reshard left running (the alarm). A reshard that fails again (a partition away) is tried again on
   * the next alarm, so it never stays half done and its map never stays busy.
   */
  async resume(): Promise<void> {
    for (const { map } of this.#store.allRunning()) {
      try {
        await this.#advance(map);
      } catch (err) {
        console.error(`[control] resuming the reshard of ${map} failed; the alarm tries again`, err);
      }
    }
    if (this.#store.allRunning().length > 0) await this.#wakeAt(this.#clock() + RESHARD_RESUME_MS);
  }

  async #advance(map: string): Promise<ReshardAnswer> {
    const running = this.#store.running(map);
    if (!running) {
      const last = this.#store.lastOutcome(map);
      return last ? answerOf(last) : { status: "unchanged", shards: this.shardsOf(map) };
    }
    const { fromShards, toShards } = running;
    const partitions = [...new Set([...partitionsOfMap(new Map([[map, fromShards]]), map), ...partitionsOfMap(new Map([[map, toShards]]), map)])];
    if (running.phase === "checking") {
      // Only the old placement can hold the map's data or subscribers; the fence below looks at every partition again.
      const old = partitionsOfMap(new Map([[map, fromShards]]), map);
      const reason = refusalOf(map, await Promise.all(old.map((p) => this.#targets.inspect(p, map))));
      if (reason !== undefined) return this.#finish(running, "refused", reason);
      this.#store.setPhase(map, "fencing");
    }
    if (running.phase !== "restoring") {
      const reason = refusalOf(map, await Promise.all(partitions.map((p) => this.#targets.fence(p, map, toShards))));
      if (reason === undefined) return this.#finish(running, "done");
      // Data arrived between the look and the fence: the old count stays, and so must the partitions' fences.
      this.#store.setPhase(map, "restoring");
    }
    await Promise.all(partitions.map((p) => this.#targets.fence(p, map, fromShards)));
    return this.#finish(running, "refused", `map ${map} received data while it was being resharded`);
  }

  #finish(running: RunningReshard, result: ReshardOutcome["result"], reason?: string): ReshardAnswer {
    const outcome: ReshardOutcome = {
      fromShards: running.fromShards,
      toShards: running.toShards,
      startedAt: running.startedAt,
      finishedAt: this.#clock(),
      result,
      ...(reason === undefined ? {} : { reason }),
    };
    this.#store.finish(running.map, outcome);
    return answerOf(outcome);
  }
}

function answerOf(outcome: ReshardOutcome): ReshardAnswer {
  return outcome.result === "done"
    ? { status: "done", fromShards: outcome.fromShards, toShards: outcome.toShards }
    : { status: "refused", fromShards: outcome.fromShards, toShards: outcome.toShards, reason: outcome.reason ?? "refused" };
}

/** Why the partitions' answers forbid the reshard, if they do. */
function refusalOf(map: string, answers: readonly MapOccupancy[]): string | undefined {
  if (answers.some((a) => a.holdsData)) {
    return `map ${map} holds data: moving its records to another shard count is not available yet (docs/resharding.md)`;
  }
  const subscribers = answers.reduce((sum, a) => sum + a.subscribers, 0);
  if (subscribers > 0) return `map ${map} has ${subscribers} live subscriptions: reshard it before clients use it (docs/resharding.md)`;
  return undefined;
}
