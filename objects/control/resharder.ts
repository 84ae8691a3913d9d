import { partitionsOfMap, type ShardConfig } from "../../core/placement.ts";
import type { MapOccupancy } from "../placement/map-fence.ts";
import type { ReshardOutcome, RunningReshard, ShardStore } from "./shard-store.ts";
import { MapMigration, type MovePartition } from "./map-migration.ts";

/** How soon the alarm resumes a reshard that has not finished (the control object may have restarted mid-way). */
export const RESHARD_RESUME_MS = 2_000;
/** About how long one alarm advances a move before it lets the control object answer other calls (map-migration.ts). */
export const MOVE_SLICE_MS = 100;

/** What the partitions of a map are asked during a reshard (by RPC, from the control object). */
export interface ReshardTargets {
  /** What the partition holds of the map, changing nothing. */
  inspect(partition: number, map: string): Promise<MapOccupancy>;
  /** Fences the map at `shards` on the partition and reports what it holds of it. */
  fence(partition: number, map: string, shards: number): Promise<MapOccupancy>;
  /** One step of moving a map that holds data (map-migration.ts). */
  move: MovePartition;
}

/** The answer to a reshard request. */
export type ReshardAnswer =
  | { status: "unchanged"; shards: number }
  | { status: "busy"; running: RunningReshard }
  | { status: "done"; fromShards: number; toShards: number }
  /** The map's data is being moved, or the reshard was interrupted (a partition away): the control object's alarm carries it on. */
  | { status: "running"; running: RunningReshard }
  | { status: "refused"; fromShards: number; toShards: number; reason: string };

/**
 * The control object's side of a reshard (docs/resharding.md). The partitions of the old placement are asked what
 * they hold of the map. An empty map is fenced at the new count on every partition of both placements (each fence
 * and its look at the data are one transaction, so a write placed by the old count either came before and is seen,
 * or comes after and is refused) and the count is committed; if data arrived in between, the fences go back and the
 * reshard is refused. A map with data (LWW records, OR-Map entries) or subscribers is moved online (map-migration.ts):
 * the request answers `running` once the move is durably started, and the control object's alarm moves it a slice at
 * a time, so the object keeps answering (the map's placement and progress, a second request's `busy`, the homes'
 * refreshes of the counts) while it runs. Every step is idempotent and the state is in SQLite, so the alarm resumes a
 * reshard wherever a crash stopped it.
 */
export class Resharder {
  readonly #store: ShardStore;
  readonly #defaults: () => ShardConfig;
  readonly #targets: ReshardTargets;
  readonly #clock: () => number;
  readonly #wakeAt: (at: number) => Promise<void>;
  readonly #migration: MapMigration;
  /** Maps this instance is advancing now (a request and the alarm must not run the same reshard twice at once). */
  readonly #active = new Set<string>();

  constructor(deps: { store: ShardStore; defaults: () => ShardConfig; targets: ReshardTargets; clock?: () => number; wakeAt: (at: number) => Promise<void> }) {
    this.#store = deps.store;
    this.#defaults = deps.defaults;
    this.#targets = deps.targets;
    this.#clock = deps.clock ?? Date.now;
    this.#wakeAt = deps.wakeAt;
    this.#migration = new MapMigration({ store: deps.store, move: deps.targets.move, clock: this.#clock });
  }

  /** The map's shard count now: the namespace's own, else the deployment's default. */
  shardsOf(map: string): number {
    return this.#store.countOf(map) ?? this.#defaults().get(map) ?? 1;
  }

  /**
   * Moves `map` to `shards` shards (the caller validated 1..271). An empty map is fenced and answered `done`; a map
   * with data or subscribers answers `running` as soon as its move is recorded, and the alarm carries the move on.
   */
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
    try {
      return await this.#advanceOnce(map);
    } catch (err) {
      console.error(`[control] the reshard of ${map} stopped; the alarm carries it on`, err);
      const now = this.#store.running(map);
      if (now) return { status: "running", running: now };
      throw err;
    }
  }

  /**
   * Advances every reshard left running by a slice (the alarm): a move that made progress asks for the alarm again at
   * once; one that failed (a partition away) is tried again after RESHARD_RESUME_MS, so it never stays half done and
   * its map never stays busy.
   */
  async resume(): Promise<void> {
    let soon = false;
    for (const { map } of this.#store.allRunning()) {
      if (this.#active.has(map)) continue;
      try {
        const answer = await this.#advanceOnce(map, this.#clock() + MOVE_SLICE_MS);
        if (answer.status === "running") soon = true;
      } catch (err) {
        console.error(`[control] resuming the reshard of ${map} failed; the alarm tries again`, err);
      }
    }
    if (this.#store.allRunning().length > 0) await this.#wakeAt(this.#clock() + (soon ? 0 : RESHARD_RESUME_MS));
  }

  /** Advances the map's reshard; a move advances until `moveUntil` (undefined: not at all, the alarm moves it). */
  async #advanceOnce(map: string, moveUntil?: number): Promise<ReshardAnswer> {
    if (this.#active.has(map)) {
      const running = this.#store.running(map);
      if (running) return { status: "running", running };
    }
    this.#active.add(map);
    try {
      return await this.#advance(map, moveUntil);
    } finally {
      this.#active.delete(map);
    }
  }

  async #advance(map: string, moveUntil: number | undefined): Promise<ReshardAnswer> {
    const running = this.#store.running(map);
    if (!running) {
      const last = this.#store.lastOutcome(map);
      return last ? answerOf(last) : { status: "unchanged", shards: this.shardsOf(map) };
    }
    const { fromShards, toShards } = running;
    const partitions = [...new Set([...partitionsOfMap(new Map([[map, fromShards]]), map), ...partitionsOfMap(new Map([[map, toShards]]), map)])];
    let phase = running.phase;
    if (phase === "checking") {
      // Only the old placement can hold the map's data or subscribers; the fence below looks at every partition again.
      const old = partitionsOfMap(new Map([[map, fromShards]]), map);
      const answers = await Promise.all(old.map((p) => this.#targets.inspect(p, map)));
      phase = answers.some((a) => a.holdsData || a.subscribers > 0) ? "copying" : "fencing";
      this.#store.setPhase(map, phase);
    }
    if (phase !== "fencing" && phase !== "restoring") {
      if (moveUntil === undefined) {
        await this.#wakeAt(this.#clock());
        return { status: "running", running: { ...running, phase } };
      }
      if (!(await this.#migration.advance({ ...running, phase }, moveUntil))) return { status: "running", running: this.#store.running(map) ?? running };
      return this.#finish(running, "done");
    }
    if (phase !== "restoring") {
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

/** Why the fences' answers forbid the reshard of an empty map, if they do: something arrived since the look. */
function refusalOf(map: string, answers: readonly MapOccupancy[]): string | undefined {
  if (answers.some((a) => a.holdsData || a.subscribers > 0)) return `map ${map} received data or subscribers while it was being resharded: try again`;
  return undefined;
}
