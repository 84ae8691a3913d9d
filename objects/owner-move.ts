import type { InterestRegistry } from "./delivery/interest-registry.ts";
import type { KnownMaps } from "./directory/known-maps.ts";
import type { JournalService } from "./journal/journal-service.ts";
import type { MapMover } from "./migration/map-mover.ts";
import type { MoveAnswer, MoveStep, MovedSubscriptions } from "./migration/move-step.ts";
import type { OrMover } from "./migration/or-mover.ts";
import type { MapFence } from "./placement/map-fence.ts";
import type { MapMoves } from "./placement/map-move.ts";
import type { QueryService } from "./queries/query-service.ts";
import type { SearchService } from "./search/search-service.ts";

/**
 * The owner role's part in an online reshard (docs/resharding.md): runs the steps the namespace's control object sends
 * (objects/migration/move-step.ts) over the fence, the move's holds and noted keys, the map's records and the
 * subscriptions the services keep.
 */
export class OwnerMove {
  readonly #fence: MapFence;
  readonly #moves: MapMoves;
  readonly #mover: MapMover;
  readonly #orMover: OrMover;
  readonly #queries: QueryService;
  readonly #search: SearchService | undefined;
  readonly #journal: JournalService | undefined;
  readonly #interest: InterestRegistry;
  readonly #knownMaps: KnownMaps | undefined;
  /** Called after a cut-over changed the map's records under the owner's caches. */
  readonly #changed: (map: string) => void;

  constructor(deps: {
    fence: MapFence;
    moves: MapMoves;
    mover: MapMover;
    orMover: OrMover;
    queries: QueryService;
    search?: SearchService;
    journal?: JournalService;
    interest: InterestRegistry;
    knownMaps?: KnownMaps;
    changed: (map: string) => void;
  }) {
    this.#fence = deps.fence;
    this.#moves = deps.moves;
    this.#mover = deps.mover;
    this.#orMover = deps.orMover;
    this.#queries = deps.queries;
    this.#search = deps.search;
    this.#journal = deps.journal;
    this.#interest = deps.interest;
    this.#knownMaps = deps.knownMaps;
    this.#changed = deps.changed;
  }

  run(step: MoveStep): MoveAnswer {
    const { map } = step;
    switch (step.op) {
      case "track":
        this.#moves.track(map);
        return { op: "done" };
      case "export":
        return { op: "export", ...this.#mover.exportLeaves(map, step.fromLeaf, step.limit) };
      case "exportOr":
        return { op: "exportOr", ...this.#orMover.exportPage(map, step.after, step.limit) };
      case "stage":
        this.#mover.stage(map, step.records);
        if (step.orEntries && step.orEntries.length > 0) this.#orMover.stage(map, step.orEntries);
        return { op: "done" };
      case "dirty": {
        const page = this.#moves.dirtyPage(map, step.limit);
        return { op: "dirty", records: this.#mover.exportKeys(map, page.keys), orEntries: this.#orMover.exportKeys(map, page.keys), upToSeq: page.upToSeq };
      }
      case "clearDirty":
        this.#moves.clearDirty(map, step.upToSeq);
        return { op: "done" };
      case "hold":
        this.#moves.hold(map);
        return { op: "done" };
      case "subscriptions":
        return { op: "subscriptions", subscriptions: this.#subscriptionsOn(map) };
      case "cutOver":
        return { op: "cutOver", ...this.#cutOver(map, step.toShards, step.adopt) };
      case "release":
        this.#moves.release(map);
        return { op: "done" };
      default:
        return step satisfies never;
    }
  }

  #cutOver(map: string, toShards: number, adopt: MovedSubscriptions | undefined): { merged: number; deleted: number } {
    // A cut-over that already ran (the control object resends it after a crash) finds nothing to move again.
    const result = this.#mover.cutOver(map, toShards);
    this.#fence.fence(map, toShards);
    this.#changed(map);
    this.#search?.forgetIndexes();
    if (result.merged > 0) this.#knownMaps?.noteWritten([map]);
    if (adopt) this.#adopt(map, adopt);
    else this.#drop(map);
    return result;
  }

  #subscriptionsOn(map: string): MovedSubscriptions {
    return {
      queries: this.#queries.subscriptionsOn(map),
      searches: this.#search?.subscriptionsOn(map) ?? [],
      journals: this.#journal?.subscriptionsOn(map) ?? [],
      listeners: this.#interest.syncListenersOf(map),
    };
  }

  /** Registers the subscriptions again from this partition's records of the map (each replaces its earlier self). */
  #adopt(map: string, subs: MovedSubscriptions): void {
    for (const sub of subs.queries) this.#queries.subscribe({ map, ...sub });
    // Grouped queries' homes hold what this partition sent before the move: send its partials over the new records.
    void this.#queries.announceGroups(map);
    for (const sub of subs.searches) this.#search?.subscribe({ map, ...sub });
    for (const sub of subs.journals) this.#journal?.subscribe(sub);
    for (const { kind, home, conn } of subs.listeners) this.#interest.register(map, kind, home, conn);
  }

  /** Drops the map's subscriptions: this partition owns none of its keys any more. */
  #drop(map: string): void {
    const subs = this.#subscriptionsOn(map);
    // Its grouped queries' homes would keep this partition's last partials (the moved records counted twice).
    void this.#queries.announceGroups(map, { empty: true });
    for (const { queryId, subscriber } of subs.queries) this.#queries.unsubscribe({ queryId, subscriber });
    for (const { subscriptionId, subscriber } of subs.searches) this.#search?.unsubscribe({ subscriptionId, subscriber });
    for (const { subscriptionId, subscriber } of subs.journals) this.#journal?.unsubscribe({ subscriptionId, subscriber });
    for (const { kind, home, conn } of subs.listeners) this.#interest.unregister(map, kind, home, conn);
  }
}
