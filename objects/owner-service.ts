import { isExpired, type LWWRecord } from "../core/lww-map.ts";
import type { ORMapEntry } from "../core/or-record.ts";
import type { QueryAnswer } from "./queries/query-answer.ts";
import type { JournalEventData, Query } from "../core/protocol/shared.ts";
import { runProcessor } from "../core/entry-processors.ts";
import type { HLC, Timestamp } from "../core/hlc.ts";
import { subtreeLeaves, type LeafSums } from "../core/merkle-tree.ts";
import type { JournalFilter, JournalService } from "./journal/journal-service.ts";
import { HomeDeliveries, type DeliverEachToHome } from "./delivery/home-deliveries.ts";
import type { AppliedWrite, CrdtWriter, MapEvents } from "./writes/crdt-writer.ts";
import type { ConnectionRef, EventFanout } from "./delivery/event-fanout.ts";
import type { InterestRegistry } from "./delivery/interest-registry.ts";
import { LeafBlockCache } from "./sync/leaf-block-cache.ts";
import { OrSyncReader } from "./sync/or-sync-reader.ts";
import { orChangesOf } from "./sync/delta-resync.ts";
import type { Persistence } from "./persistence/persistence.ts";
import type { LwwStore } from "./writes/lww-store.ts";
import type { KnownMaps } from "./directory/known-maps.ts";
import type { MerkleStore, TreeKind } from "./writes/merkle-store.ts";
import type { OwnerApi } from "./owner-api.ts";
import type { ChangesSince, MerkleAnswer, SyncInitAnswer } from "./sync/sync-owner.ts";
import { isLwwOp, type ApplyRequest, type LwwOwnerOp, type OwnerOp, type OwnerOpOutcome, type ProcessOutcome } from "./writes/owner-op.ts";
import { evaluatePredicate } from "../core/predicate.ts";
import { compileSchema, type CompiledSchema, type MapSchema } from "../core/map-schema.ts";
import type { PredicateNode } from "../core/protocol/shared.ts";
import type { OrStore } from "./writes/or-store.ts";
import type { QueryService } from "./queries/query-service.ts";
import type { SearchResult, SearchService } from "./search/search-service.ts";
import type { TermStats } from "./search/term-stats.ts";
import type { SearchOptions } from "../core/protocol/shared.ts";
import type { SqlPort } from "./storage/sql-port.ts";
import type { MapFence, MapOccupancy } from "./placement/map-fence.ts";
import type { MapMoves } from "./placement/map-move.ts";
import { stalePlacementMessage } from "../core/placement.ts";
import type { ExpirySweep } from "./expiry/expiry-sweep.ts";

const LEAF_PATH_LENGTH = 3;
/** The writer of the sweep's deletes: no connection, so every listener gets their events. */
const SWEEPER: ConnectionRef = { home: -1, conn: "" };

/** The owner role of a partition: the maps (or shards) that hash to it. */
export class OwnerService implements OwnerApi {
  readonly #sql: SqlPort;
  readonly #writer: CrdtWriter;
  readonly #lww: LwwStore;
  readonly #or: OrStore;
  readonly #merkle: MerkleStore;
  readonly #interest: InterestRegistry;
  readonly #fanout: EventFanout;
  readonly #deliver: DeliverEachToHome;
  readonly #queries: QueryService;
  readonly #search: SearchService | undefined;
  readonly #leafBlocks = new LeafBlockCache();
  readonly #orSync: OrSyncReader;
  /** The schemas entry processors' results were checked against, compiled once per map and version. */
  readonly #processorSchemas = new Map<string, CompiledSchema>();
  readonly #persistence: Persistence | undefined;
  readonly #hlc: HLC | undefined;
  readonly #journal: JournalService | undefined;
  readonly #knownMaps: KnownMaps | undefined;
  readonly #fence: MapFence | undefined;
  readonly #moves: MapMoves | undefined;
  readonly #expiry: ExpirySweep | undefined;
  readonly #clock: () => number;

  constructor(deps: {
    sql: SqlPort;
    writer: CrdtWriter;
    lww: LwwStore;
    or: OrStore;
    merkle: MerkleStore;
    interest: InterestRegistry;
    fanout: EventFanout;
    /** Sends a write's frames for the connections of one home (its one delivery there; see #published). */
    deliver: DeliverEachToHome;
    queries: QueryService;
    /** Full-text search (indexes and subscriptions); absent in tests that do not need it. */
    search?: SearchService;
    /** Postgres write-through; absent when no Hyperdrive binding is configured. */
    persistence?: Persistence;
    /** The owner's clock, for entry processors' writes. */
    hlc?: HLC;
    /** The event journal (the writer appends to it; this service reads it and publishes new events). */
    journal?: JournalService;
    /** The maps this owner holds, for the namespace's directory of maps. */
    knownMaps?: KnownMaps;
    /** The shard counts of resharded maps: ops for keys this partition does not own under them are refused. */
    fence?: MapFence;
    /** Maps being resharded here: writes note their keys; while held, writes, subscriptions and reads wait. */
    moves?: MapMoves;
    /** TTL expiry and tombstone GC (the alarm's `sweep`); absent in tests that do not need it. */
    expiry?: ExpirySweep;
    /** Wall-clock millis: a record whose TTL ran out counts as absent for guards and entry processors. */
    clock?: () => number;
  }) {
    this.#sql = deps.sql;
    this.#writer = deps.writer;
    this.#lww = deps.lww;
    this.#or = deps.or;
    this.#orSync = new OrSyncReader(deps.sql, deps.or);
    this.#merkle = deps.merkle;
    this.#interest = deps.interest;
    this.#fanout = deps.fanout;
    this.#deliver = deps.deliver;
    this.#queries = deps.queries;
    this.#search = deps.search;
    this.#persistence = deps.persistence;
    this.#hlc = deps.hlc;
    this.#journal = deps.journal;
    this.#knownMaps = deps.knownMaps;
    this.#fence = deps.fence;
    this.#moves = deps.moves;
    this.#expiry = deps.expiry;
    this.#clock = deps.clock ?? Date.now;
  }

  /** Fences `map` at `shards` (the control object's reshard) and reports what this partition holds of it. */
  async fenceMap({ map, shards }: { map: string; shards: number }): Promise<MapOccupancy> {
    if (!this.#fence) throw new Error("this owner keeps no map fences");
    return this.#fence.fence(map, shards);
  }

  /** What this partition holds of `map` (a reshard's first look; it changes nothing). */
  async inspectMap({ map }: { map: string }): Promise<MapOccupancy> {
    if (!this.#fence) throw new Error("this owner keeps no map fences");
    return this.#fence.inspect(map);
  }

  /**
   * Throws the stale-placement refusal when the caller placed `map` by another shard count than its fence: a home
   * with a stale copy must not register a listener or subscription where the map's writes no longer arrive.
   */
  #checkShardCount(map: string, shards: number | undefined): void {
    if (this.#fence && !this.#fence.acceptsCount(map, shards)) throw new Error(stalePlacementMessage(map));
  }

  /** Throws the stale-placement refusal when a key is not this partition's under its map's fence. */
  #checkPlacement(ops: readonly { map: string; key: string }[]): void {
    const map = this.#fence?.refusedMap(ops);
    if (map !== undefined) throw new Error(stalePlacementMessage(map));
  }

  /**
   * Before a write: waits while a reshard's cut-over holds one of its maps, checks the placement (a write held across
   * the cut-over meets the new fence), and notes the keys a running reshard must copy again. Awaits nothing unless a
   * map is held (answers undefined then), so the checks and the merge after them stay in one synchronous turn.
   */
  #admitWrites(ops: readonly { map: string; key: string }[]): Promise<void> | undefined {
    const open = this.#moves?.whenOpen(ops);
    if (open) return open.then(() => this.#admitWrites(ops));
    this.#checkPlacement(ops);
    this.#moves?.noteWrites(ops);
    return undefined;
  }

  /**
   * Before a read or a subscription of `map`: waits while a reshard's cut-over holds it, then refuses it as stale (its
   * home placed it by the count the cut-over replaced, and places it again); refuses it too on a partition that owns
   * none of the map's shards under its fence, or when the home placed it by another count than the fence (`shards`,
   * which every read sends: a home with a stale copy would otherwise read a partition that still owns a shard of the
   * map and answer with that part only).
   */
  #admitRead(map: string, shards?: number): Promise<void> | undefined {
    const open = this.#moves?.whenOpen([{ map }]);
    if (open) return open.then(() => Promise.reject(new Error(stalePlacementMessage(map))));
    if (this.#fence && !this.#fence.ownsShardOf(map)) throw new Error(stalePlacementMessage(map));
    this.#checkShardCount(map, shards);
    // Nothing to wait for: the caller goes on in the same synchronous turn.
    return undefined;
  }

  /** A reshard's cut-over changed `map`'s records here: drops what this service caches of them. */
  forgetMap(map: string): void {
    this.#forgetSyncReads(map);
  }

  /** `map` changed here: drops what Merkle sync read of it (LWW leaf blocks, OR tombstone-only keys). */
  #forgetSyncReads(map: string): void {
    this.#leafBlocks.forget(map);
    this.#orSync.forget(map);
  }

  /** The sums a Merkle walk sees: an OR map's also count its tombstone-only keys (or-sync-reader.ts). */
  #syncSums(kind: TreeKind, map: string): LeafSums {
    const stored = this.#merkle.sums(kind, map);
    return kind === "or" ? this.#orSync.sums(map, stored) : stored;
  }

  /** Whether the alarm's sweep would look for work (it skips while nothing is due: see ExpirySweep.mayBeDue). */
  sweepMayBeDue(): boolean {
    return this.#expiry?.mayBeDue() ?? false;
  }

  /** Asks for the alarm when the next record expires or tombstone comes of age (on wake; the sweep re-arms itself). */
  async scheduleSweep(): Promise<void> {
    await this.#expiry?.scheduleNext(false);
  }

  /**
   * The alarm's sweep (objects/expiry/): records whose TTL ran out are deleted in one transaction and published as
   * any write (journal DELETE, query and search LEAVE, SERVER_EVENT to every synced connection, Postgres); then
   * tombstones older than the horizon are pruned and the connections that synced their maps get GC_PRUNE. Each
   * step takes a bounded chunk; the alarm comes back at once while more is due, else when the next thing is.
   */
  async sweep(): Promise<void> {
    const expiry = this.#expiry;
    if (!expiry) return;
    if (!expiry.mayBeDue()) return expiry.stayArmed();
    const expired = this.#sql.transaction(() => {
      const { ops, more } = expiry.expiredOps();
      this.#moves?.noteWrites(ops);
      return { ops, more, applied: ops.length > 0 ? this.#writer.apply(ops) : undefined };
    });
    if (expired.applied) {
      for (const map of new Set(expired.ops.map((op) => op.map))) this.#forgetSyncReads(map);
      await this.#published(expired.applied, SWEEPER);
    }
    const pruned = expiry.prune();
    for (const { map } of pruned.maps) this.#forgetSyncReads(map);
    if (this.#persistence && pruned.queued > 0) await this.#persistence.changed();
    await expiry.announce(pruned);
    await expiry.scheduleNext(expired.more || pruned.more);
  }

  async apply({ ops, writer, persist }: ApplyRequest): Promise<OwnerOpOutcome[]> {
    const held = this.#admitWrites(ops);
    if (held) await held;
    for (const map of new Set(ops.map((op) => op.map))) this.#forgetSyncReads(map);
    // The guard check reads and the writer writes in the same synchronous turn: no other write comes between.
    const refused = this.#refusedByGuards(ops);
    const allowed = refused.length === 0 ? ops : ops.filter((op) => !refused.some((r) => r.index === op.index));
    const outcomes = await this.#published(this.#writer.apply(allowed), writer, persist);
    const byIndex = new Map(ops.map((op) => [op.index, op.map]));
    this.#knownMaps?.noteWritten(outcomes.flatMap((o) => (o.ok ? [byIndex.get(o.index) ?? ""] : [])).filter(Boolean));
    return refused.length === 0 ? outcomes : [...outcomes, ...refused];
  }

  /** Ops whose guard the key's current live value fails (see LwwOwnerOp.guard). */
  #refusedByGuards(ops: readonly OwnerOp[]): OwnerOpOutcome[] {
    const refused: OwnerOpOutcome[] = [];
    const guarded = ops.filter((op): op is LwwOwnerOp & { guard: PredicateNode } => isLwwOp(op) && op.guard !== undefined);
    for (const map of new Set(guarded.map((op) => op.map))) {
      const inMap = guarded.filter((op) => op.map === map);
      const current = this.#lww.readKeys(map, inMap.map((op) => op.key));
      for (const op of inMap) {
        const stored = current.get(op.key);
        if (!isLive(stored, this.#clock())) continue;
        if (!evaluatePredicate(op.guard, stored.value, { key: op.key })) refused.push(forbiddenWrite(op.index, map));
      }
    }
    return refused;
  }

  /**
   * Coalesced calls (owner-call-coalescer.ts): the requests of several batches and connections merge as one write
   * (one transaction, one write-log row, one journal row: what a call costs no longer grows with its requests), in
   * request order, and their events fan out per writer (each skips its own connection). A call with a guarded op
   * (a record-condition policy) merges request by request instead, so each guard reads what the requests before it
   * wrote.
   */
  async applyBatches({ requests }: { requests: ApplyRequest[] }): Promise<OwnerOpOutcome[][]> {
    const held = this.#admitWrites(requests.flatMap(({ ops }) => ops));
    if (held) await held;
    for (const { ops } of requests) for (const map of new Set(ops.map((op) => op.map))) this.#forgetSyncReads(map);
    if (requests.some(({ ops }) => ops.some((op) => isLwwOp(op) && op.guard !== undefined))) return this.#applyEach(requests);
    // One op list, numbered through; `origins[i]` says which request op i came from and its index there.
    const merged: OwnerOp[] = [];
    const origins: { request: number; index: number }[] = [];
    requests.forEach(({ ops }, request) => {
      for (const op of ops) {
        origins.push({ request, index: op.index });
        merged.push({ ...op, index: merged.length });
      }
    });
    const write = this.#writer.apply(merged);
    const writers = requests.map((r) => r.writer);
    const persist = requests.some((r) => r.persist);
    const outcomes = await this.#published(write, (index) => writers[origins[index]?.request ?? 0] ?? writers[0]!, persist);
    const answers: OwnerOpOutcome[][] = requests.map(() => []);
    for (const outcome of outcomes) {
      const origin = origins[outcome.index];
      if (!origin) continue;
      const answer = { ...outcome, index: origin.index };
      if (answer.ok && !requests[origin.request]?.persist) delete answer.persisted;
      answers[origin.request]?.push(answer);
    }
    this.#knownMaps?.noteWritten([...new Set(outcomes.flatMap((o) => (o.ok ? [merged[o.index]?.map ?? ""] : [])).filter(Boolean))]);
    return answers;
  }

  /** Coalesced requests merged one by one (guards read what the requests before them wrote), then published in order. */
  async #applyEach(requests: readonly ApplyRequest[]): Promise<OwnerOpOutcome[][]> {
    const applied = this.#sql.transaction(() =>
      requests.map(({ ops }) => {
        const refused = this.#refusedByGuards(ops);
        const allowed = refused.length === 0 ? ops : ops.filter((op) => !refused.some((r) => r.index === op.index));
        return { write: this.#writer.apply(allowed), refused };
      }),
    );
    const answers: OwnerOpOutcome[][] = [];
    for (const [i, request] of requests.entries()) {
      const entry = applied[i];
      if (!entry) continue;
      const outcomes = await this.#published(entry.write, request.writer, request.persist);
      answers.push(entry.refused.length === 0 ? outcomes : [...outcomes, ...entry.refused]);
    }
    return answers;
  }

  /** After a commit: Postgres, query updates, SERVER_EVENTs and journal events, as for any write. */
  async #published(
    applied: AppliedWrite,
    writer: ConnectionRef | ((opIndex: number) => ConnectionRef),
    persist?: boolean,
  ): Promise<OwnerOpOutcome[]> {
    const { outcomes, events, changes, queued, journal } = applied;
    if (this.#persistence && queued > 0) await this.#persistence.changed();
    if (persist) {
      const persisted = this.#persistence ? await this.#persistence.persisted() : false;
      for (const outcome of outcomes) if (outcome.ok) outcome.persisted = persisted;
    }
    // One call per home carries the write's QUERY_UPDATEs, SEARCH_UPDATEs, SERVER_EVENTs and JOURNAL_EVENTs, in that
    // order for each connection (QUERY_UPDATEs before SERVER_EVENTs: PROTOCOL.md §10.3), before the writer's OP_ACK;
    // it was a call per kind, one after the other.
    const outbox = new HomeDeliveries();
    await this.#queries.publish(changes, outbox);
    await this.#search?.publish(changes, applied.orKeys, outbox);
    for (const e of events) {
      if (typeof writer === "function") {
        for (const [from, messages] of byWriter(e, writer)) this.#fanout.collect(e.map, e.tree, messages, outbox, from);
      } else {
        this.#fanout.collect(e.map, e.tree, e.messages, outbox, writer);
      }
    }
    await this.#journal?.publish(journal, outbox);
    // A connection its home no longer knows is gone for every registry.
    await outbox.send(this.#deliver, (home, conn) => this.#forgetConnection(home, conn), "write");
    // OR-Map tombstones and TTLs need the alarm (an LWW write's compaction wakes it anyway); the ack does not wait.
    if (applied.orKeys && applied.orKeys.length > 0) {
      this.#expiry?.noteOrWrite().catch((err: unknown) => console.error("[owner] scheduling the expiry sweep failed", err));
    }
    return outcomes;
  }

  /**
   * Entry processors (Part A 11): reads the keys' current LWW records, computes each built-in processor and writes
   * the new values through the CRDT writer, all in one synchronous transaction (no await between read and write,
   * so processors on this owner are serialised). A write's timestamp is the owner's HLC after the current record's,
   * so it is strictly newer and always wins.
   */
  async process(request: { map: string; keys: string[]; processor: { name: string; args?: unknown }; writer: ConnectionRef; guard?: PredicateNode; schema?: MapSchema }): Promise<Record<string, ProcessOutcome>> {
    const { map, processor, writer, guard } = request;
    const held = this.#admitWrites(request.keys.map((key) => ({ map, key })));
    if (held) await held;
    const passes = (key: string, value: unknown) => guard === undefined || evaluatePredicate(guard, value, { key });
    const schema = request.schema === undefined ? undefined : this.#compiled(request.schema);
    const keys = [...new Set(request.keys)];
    const hlc = this.#hlc;
    if (!hlc) throw new Error("entry processors need the owner's HLC");
    const results: Record<string, ProcessOutcome> = {};
    this.#forgetSyncReads(map);
    const applied = this.#sql.transaction(() => {
      const current = this.#lww.readKeys(map, keys);
      const ops: OwnerOp[] = [];
      keys.forEach((key, index) => {
        const stored = current.get(key);
        // A record whose TTL ran out is gone for the processor (its timestamp still orders the new write after it).
        const record = isLive(stored, this.#clock()) ? stored : undefined;
        const denied = () => (results[key] = { success: false, error: `forbidden: write access denied for map: ${map}` });
        if (record && record.value !== null && !passes(key, record.value)) return void denied();
        const outcome = runProcessor(processor.name, record?.value ?? undefined, processor.args);
        if (!outcome.ok) {
          results[key] = { success: false, error: outcome.error };
          return;
        }
        if (outcome.write && !("delete" in outcome.write) && !passes(key, outcome.write.value)) return void denied();
        const violation = outcome.write && !("delete" in outcome.write) ? schema?.violation(outcome.write.value) : undefined;
        if (violation !== undefined) return void (results[key] = { success: false, error: violation });
        const answer: ProcessOutcome = { success: true };
        if (outcome.result !== undefined) answer.result = outcome.result;
        if (outcome.newValue !== undefined) answer.newValue = outcome.newValue;
        results[key] = answer;
        if (!outcome.write) return;
        if (stored) hlc.update(stored.timestamp);
        const timestamp = hlc.now();
        ops.push("delete" in outcome.write
          ? { index, type: "REMOVE", map, key, record: { value: null, timestamp } }
          : { index, type: "PUT", map, key, record: { value: outcome.write.value, timestamp } });
      });
      return this.#writer.apply(ops);
    });
    for (const outcome of applied.outcomes) {
      const key = keys[outcome.index];
      if (!outcome.ok && key !== undefined) results[key] = { success: false, error: outcome.message };
    }
    await this.#published(applied, writer);
    if (applied.outcomes.some((o) => o.ok)) this.#knownMaps?.noteWritten([map]);
    return results;
  }

  /** The map's schema as the home sent it, compiled once per version. */
  #compiled(schema: MapSchema): CompiledSchema {
    let compiled = this.#processorSchemas.get(schema.map);
    if (compiled?.version !== schema.version) {
      compiled = compileSchema(schema);
      this.#processorSchemas.set(schema.map, compiled);
    }
    return compiled;
  }

  async journalRead(request: { fromSequence: string; limit: number; map?: string }): Promise<JournalEventData[]> {
    return this.#journal?.read(request) ?? [];
  }

  async journalSubscribe(request: { subscriptionId: string; fromSequence?: string; filter: JournalFilter; subscriber: ConnectionRef; shards?: number }): Promise<JournalEventData[]> {
    if (request.filter.map !== undefined) {
      const held = this.#admitRead(request.filter.map);
      if (held) await held;
      this.#checkShardCount(request.filter.map, request.shards);
    }
    return this.#journal?.subscribe(request) ?? [];
  }

  async journalUnsubscribe(request: { subscriptionId: string; subscriber: ConnectionRef }): Promise<void> {
    this.#journal?.unsubscribe(request);
  }

  async syncInit({ kind, map, listener, shards, changesSince }: { kind: TreeKind; map: string; listener: ConnectionRef; shards?: number; changesSince?: ChangesSince }): Promise<SyncInitAnswer> {
    const held = this.#admitRead(map);
    if (held) await held;
    this.#checkShardCount(map, shards);
    this.#interest.register(map, kind === "lww" ? "lww-sync" : "or-sync", listener.home, listener.conn);
    // One synchronous turn: no write lands between the sums, the clock and the changes read here.
    const sums = this.#syncSums(kind, map).encode();
    const at = this.#journal?.clockMillis() ?? Date.now();
    const tombstones = kind === "or" ? { tombstones: this.#orSync.tombstoneCount(map) } : {};
    if (changesSince === undefined || this.#journal === undefined) return { sums, at, ...tombstones };
    const keys = this.#journal.keysChangedSince(map, changesSince.millis, changesSince.limit);
    if (kind === "or") return { sums, at, ...tombstones, orChanges: orChangesOf(this.#or.readKeys(map, keys)) };
    const changes = [...this.#lww.readKeys(map, keys)].map(([key, record]) => ({ key, record }));
    return { sums, at, changes };
  }

  async merkle({ kind, map, path, recordsUpTo, shards }: { kind: TreeKind; map: string; path: string; recordsUpTo?: number; shards?: number }): Promise<MerkleAnswer> {
    const held = this.#admitRead(map, shards);
    if (held) await held;
    const sums = this.#syncSums(kind, map);
    if (recordsUpTo !== undefined && path.length < LEAF_PATH_LENGTH) {
      const whole = this.#wholeSubtree(kind, map, path, sums, recordsUpTo);
      if (whole) return whole;
    }
    if (path.length === LEAF_PATH_LENGTH) {
      return sums.isLeafWithEntries(path) ? this.readLeaf({ kind, map, leaf: Number.parseInt(path, 16) }) : { type: "missing" };
    }
    const buckets = sums.buckets(path);
    return buckets ? { type: "buckets", buckets } : { type: "missing" };
  }

  /**
   * A node above the leaves answered with every entry below it, or undefined when its subtree is empty or holds more
   * than `upTo` entries (an OR map's limits: or-sync-reader.ts).
   */
  #wholeSubtree(kind: TreeKind, map: string, path: string, sums: LeafSums, upTo: number): MerkleAnswer | undefined {
    const { first, last } = subtreeLeaves(path);
    const entries = sums.countIn(first, last);
    if (kind === "or") {
      const orEntries = this.#orSync.readSubtree(map, { first, last, keys: entries }, upTo);
      return orEntries ? { type: "or-leaf", entries: orEntries } : undefined;
    }
    if (entries === 0 || entries > upTo) return undefined;
    return { type: "lww-leaf", records: [...this.#lww.readLeaves(map, first, last).values()].flat() };
  }

  async readLeaf({ kind, map, leaf, shards }: { kind: TreeKind; map: string; leaf: number; shards?: number }): Promise<MerkleAnswer> {
    const held = this.#admitRead(map, shards);
    if (held) await held;
    return kind === "lww"
      ? { type: "lww-leaf", records: this.#leafBlocks.read(map, leaf, (first, last) => this.#lww.readLeaves(map, first, last)) }
      : { type: "or-leaf", entries: this.#orSync.readLeaves(map, leaf, leaf) };
  }

  /** Every entry of leaves `first`..`last` here (a sharded map's fresh pull: the home sums and limits them). */
  async readLeafRange({ kind, map, first, last, shards }: { kind: TreeKind; map: string; first: number; last: number; shards?: number }): Promise<MerkleAnswer> {
    const held = this.#admitRead(map, shards);
    if (held) await held;
    return kind === "lww"
      ? { type: "lww-leaf", records: [...this.#lww.readLeaves(map, first, last).values()].flat() }
      : { type: "or-leaf", entries: this.#orSync.readLeaves(map, first, last) };
  }

  async readRecords({ map, keys, shards }: { map: string; keys: string[]; shards?: number }): Promise<{ key: string; record: LWWRecord }[]> {
    const held = this.#admitRead(map, shards);
    if (held) await held;
    return [...this.#lww.readKeys(map, keys)].map(([key, record]) => ({ key, record }));
  }

  async readSince({ map, since, limit, shards }: { map: string; since: Timestamp; limit: number; shards?: number }): Promise<{ key: string; record: LWWRecord }[]> {
    const held = this.#admitRead(map, shards);
    if (held) await held;
    return this.#lww.readSince(map, since, limit);
  }

  async orDiff({ map, keys, shards }: { map: string; keys: string[]; shards?: number }): Promise<ORMapEntry[]> {
    // Like every read of a map: it waits while a reshard holds the map, then meets the new fence.
    const held = this.#admitRead(map, shards);
    if (held) await held;
    return this.#or.readKeys(map, keys);
  }

  async pushOrDiff({ map, entries, writer }: { map: string; entries: ORMapEntry[]; writer: ConnectionRef }): Promise<void> {
    const held = this.#admitWrites(entries.map((entry) => ({ map, key: entry.key })));
    if (held) await held;
    this.#forgetSyncReads(map);
    await this.#published(this.#writer.mergeOrEntries(map, entries), writer);
    this.#knownMaps?.noteWritten([map]);
  }

  /** Live entries of each map this owner holds (an admin read: it counts the rows). */
  async mapCounts({ maps }: { maps: string[] }): Promise<{ name: string; entryCount: number }[]> {
    return maps.map((name) => {
      const lww = this.#lww.liveCount(name);
      const or = Number(this.#sql.exec("SELECT COUNT(DISTINCT key) AS n FROM or_record WHERE map = ?", name)[0]?.n ?? 0);
      return { name, entryCount: lww + or };
    });
  }

  async stats(): Promise<{ depth: number; lagMs: number } | undefined> {
    return this.#persistence?.stats();
  }

  async dropConnection({ home, conn }: ConnectionRef): Promise<void> {
    this.#forgetConnection(home, conn);
  }

  #forgetConnection(home: number, conn: string): void {
    this.#interest.dropConnection(home, conn);
    this.#queries.dropConnection(home, conn);
    this.#search?.dropConnection(home, conn);
    this.#journal?.dropConnection(home, conn);
  }

  async querySubscribe(request: { map: string; queryId: string; query: Query; fields?: string[] | undefined; subscriber: ConnectionRef; shards?: number }): Promise<QueryAnswer> {
    const held = this.#admitRead(request.map);
    if (held) await held;
    this.#checkShardCount(request.map, request.shards);
    return this.#queries.subscribe(request);
  }

  async queryRead(request: { map: string; query: Query; shards?: number }): Promise<QueryAnswer> {
    const held = this.#admitRead(request.map, request.shards);
    if (held) await held;
    return this.#queries.read(request);
  }

  async queryUnsubscribe(request: { queryId: string; subscriber: ConnectionRef }): Promise<void> {
    this.#queries.unsubscribe(request);
  }

  async searchStats(request: { map: string; query: string; shards?: number }): Promise<TermStats> {
    const held = this.#admitRead(request.map, request.shards);
    if (held) await held;
    return this.#search?.termStats(request) ?? { docs: 0, length: 0, df: {} };
  }

  async search(request: { map: string; query: string; options: SearchOptions; stats?: TermStats | undefined; shards?: number }): Promise<SearchResult[]> {
    const held = this.#admitRead(request.map, request.shards);
    if (held) await held;
    return this.#search?.search(request) ?? [];
  }

  async searchSubscribe(request: {
    map: string;
    subscriptionId: string;
    query: string;
    options: SearchOptions;
    stats?: TermStats | undefined;
    subscriber: ConnectionRef;
    shards?: number;
  }): Promise<SearchResult[]> {
    const held = this.#admitRead(request.map);
    if (held) await held;
    this.#checkShardCount(request.map, request.shards);
    return this.#search?.subscribe(request) ?? [];
  }

  async searchUnsubscribe(request: { subscriptionId: string; subscriber: ConnectionRef }): Promise<void> {
    this.#search?.unsubscribe(request);
  }
}

/** A stored record with a value whose TTL has not run out. */
function isLive(record: LWWRecord | undefined, nowMs: number): record is LWWRecord {
  return record !== undefined && record.value !== null && !isExpired(record, nowMs);
}

function forbiddenWrite(index: number, map: string): OwnerOpOutcome {
  return { index, ok: false, kind: "FORBIDDEN", message: `forbidden: write access denied for map: ${map}` };
}

/** A map's events split by the writer of the op each came from, in order (one group per writer). */
function byWriter(events: MapEvents, writerOf: (opIndex: number) => ConnectionRef): [ConnectionRef, unknown[]][] {
  const groups = new Map<ConnectionRef, unknown[]>();
  events.messages.forEach((message, i) => {
    const from = writerOf(events.origins?.[i] ?? 0);
    const group = groups.get(from);
    if (group) group.push(message);
    else groups.set(from, [message]);
  });
  return [...groups];
}
