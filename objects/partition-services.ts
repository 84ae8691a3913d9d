import { HLC } from "../core/hlc.ts";
import { AlarmSchedule } from "./storage/alarm-schedule.ts";
import { createPersistence } from "./persistence/postgres-connection.ts";
import type { Persistence } from "./persistence/persistence.ts";
import { authenticatorFromSettings } from "./session/authenticator.ts";
import { ConnectionSender } from "./delivery/connection-sender.ts";
import type { CoordinationApi } from "./coordination/coordination-api.ts";
import { CoordinationCoordinator } from "./coordination/coordination-coordinator.ts";
import { CoordinationOwner } from "./coordination/coordination-owner.ts";
import { CounterService } from "./coordination/counter-service.ts";
import { LockService } from "./coordination/lock-service.ts";
import { TopicService } from "./coordination/topic-service.ts";
import { dropClosedConnection, holdsConnectionState } from "./session/connection-close.ts";
import { CrdtWriter } from "./writes/crdt-writer.ts";
import { durableObjectSqlPort } from "./storage/do-sql-port.ts";
import { EventFanout } from "./delivery/event-fanout.ts";
import { InterestRegistry } from "./delivery/interest-registry.ts";
import { LwwStore } from "./writes/lww-store.ts";
import { MerkleStore } from "./writes/merkle-store.ts";
import type { OwnerApi } from "./owner-api.ts";
import { OwnerService } from "./owner-service.ts";
import { OwnerMove } from "./owner-move.ts";
import { MapMoves } from "./placement/map-move.ts";
import { MapMover } from "./migration/map-mover.ts";
import { StagingStore } from "./migration/staging-store.ts";
import { OrMover } from "./migration/or-mover.ts";
import { OrStagingStore } from "./migration/or-staging-store.ts";
import { OrStore } from "./writes/or-store.ts";
import type { DeliverToHome } from "./delivery/event-fanout.ts";
import type { DeliverEachToHome, HomeApi } from "./delivery/home-deliveries.ts";
import { QueryCoordinator } from "./queries/query-coordinator.ts";
import { QueryService } from "./queries/query-service.ts";
import { SearchCoordinator } from "./search/search-coordinator.ts";
import { SearchIndexes } from "./search/search-index.ts";
import { SearchService } from "./search/search-service.ts";
import { applySchema } from "./storage/schema.ts";
import { SqlCoordinator } from "./sql/sql-coordinator.ts";
import { Session } from "./session/session.ts";
import { HomeDelivery, type DeliverySocket } from "./session/home-delivery.ts";
import { OutboundGuard } from "./session/outbound-guard.ts";
import { ConnectionSubscriptions } from "./delivery/connection-subscriptions.ts";
import type { PolicySnapshot } from "../core/access-policy.ts";
import { AccessGuard, parseAdminSubjects } from "./access/access-guard.ts";
import { OPEN_POLICIES, PolicyCache } from "./access/policy-cache.ts";
import { NO_SCHEMA_CACHE, SchemaCache } from "./access/schema-cache.ts";
import type { SchemaChanges } from "../core/map-schema.ts";
import type { Settings } from "./settings.ts";
import { shardConfigOf } from "./shard-config.ts";
import type { ShardSnapshot } from "../core/placement.ts";
import { ShardCache } from "./placement/shard-cache.ts";
import { MapFence } from "./placement/map-fence.ts";
import { SyncCoordinator } from "./sync/sync-coordinator.ts";
import { WriteCoordinator } from "./writes/write-coordinator.ts";
import { OwnerCallCoalescer } from "./writes/owner-call-coalescer.ts";
import { compactionDelayMs } from "./writes/compaction-delay.ts";
import { opRateOf } from "./session/op-budget.ts";
import { CallerBudgets } from "./http/caller-budgets.ts";
import { JournalService } from "./journal/journal-service.ts";
import { JournalCoordinator } from "./journal/journal-coordinator.ts";
import { ProcessorCoordinator } from "./writes/processor-coordinator.ts";
import type { Handlers } from "./session/dispatch.ts";
import { HttpApi } from "./http/http-api.ts";
import { HttpGateway } from "./http/http-gateway.ts";
import { HttpSync } from "./http/http-sync.ts";
import { DeltaReader } from "./http/sync-deltas.ts";
import { KnownMaps, type ReportMaps } from "./directory/known-maps.ts";
import { PartitionMetrics } from "./partition-metrics.ts";
import { ExpirySweep } from "./expiry/expiry-sweep.ts";
import { tombstoneHorizonMs } from "./expiry/horizon.ts";
import { syncReset } from "./sync/sync-reset.ts";

/** How long a compaction round kept going by writes may hold back the Merkle snapshot (see checkpointMerkle). */
const CHECKPOINT_MAX_DEFER_MS = 10_000;

/** The two roles of a partition, wired to its storage and to the other partitions. */
export interface Services {
  owner: OwnerService;
  /** Owner role during an online reshard: the steps the namespace's control object sends. */
  move: OwnerMove;
  session: Session;
  /** Owner role for topics, counters and locks. */
  coordination: CoordinationOwner;
  /** Postgres write-through, when a Hyperdrive binding is configured. */
  persistence: Persistence | undefined;
  /** The owner's sweep of expired records and old tombstones (the alarm's; see objects/expiry/). */
  sweep(): Promise<void>;
  /**
   * One step of the LWW write log's compaction (the alarm's; the next step is scheduled at once when one is left).
   * Answers whether a step is left.
   */
  compactLwwStep(): Promise<boolean>;
  /** Stores the Merkle snapshots that fell behind, unless the compaction round has a step left (and not for long). */
  checkpointMerkle(compactionLeft: boolean): void;
  /** The alarm started (the runtime cleared it): the features' next requests arm it again. */
  alarmFired(): void;
  /** Home role: frames owners push to this home's connections. */
  homeDelivery: HomeDelivery;
  /** Home role for HTTP callers: `POST /sync` and `/v1`, through the same dispatch as a socket. */
  http: { sync: HttpSync; api: HttpApi };
  /** Counters for `/metrics` (in memory). */
  metrics: PartitionMetrics;
  /** Home role of live queries: owners send it the changes of grouped and windowed queries. */
  queries: QueryCoordinator;
}


/** Builds a partition's services; runs on the first event after construction or wake, never in the constructor. */
export function createPartitionServices(deps: {
  ctx: DurableObjectState;
  settings: Settings;
  namespace: string;
  id: number;
  owners: (partition: number) => OwnerApi;
  homes: (partition: number) => HomeApi;
  /** The namespace's policies from its control object; absent in configurations without one (everything allowed). */
  policySnapshot?: () => Promise<PolicySnapshot>;
  /** The namespace's map schemas from its control object (the set only when newer than `known`); absent without one. */
  schemaChanges?: (known?: number) => Promise<SchemaChanges>;
  /** Reports maps this owner holds to the namespace's directory; absent in configurations without a control object. */
  reportMaps?: ReportMaps;
  /** The namespace's shard counts from its control object; absent in configurations without one (the defaults alone). */
  shardSnapshot?: () => Promise<ShardSnapshot>;
  coordinationOwners: (partition: number) => CoordinationApi;
  /** The open sockets of a connection of this home (none when it is gone). */
  socketsOf: (conn: string) => DeliverySocket[];
}): Services {
  const { ctx, settings, namespace, id, owners } = deps;
  // A wrong TOPGUN_TOMBSTONE_TTL stops here, with an error that names it.
  const horizonMs = tombstoneHorizonMs(settings.TOPGUN_TOMBSTONE_TTL);
  const sql = durableObjectSqlPort(ctx.storage);
  applySchema(sql);
  const hlc = new HLC(`edge-p${id}`);
  const alarm = new AlarmSchedule(ctx.storage);
  const schedule = (atMs: number) => alarm.request(atMs);
  const access = new AccessGuard({
    policies: deps.policySnapshot ? new PolicyCache({ fetch: deps.policySnapshot }) : OPEN_POLICIES,
    adminSubjects: parseAdminSubjects(settings.TOPGUN_ADMIN_SUBJECTS),
  });
  const schemas = deps.schemaChanges ? new SchemaCache({ fetch: deps.schemaChanges }) : NO_SCHEMA_CACHE;
  // The home's live queries (built below); owners' query events and the outbound guard reach them through this.
  let homeQueries: QueryCoordinator | undefined;
  const homeDelivery = new HomeDelivery({
    socketsOf: deps.socketsOf,
    guard: new OutboundGuard({
      access,
      queries: new ConnectionSubscriptions(sql, { name: "conn_query", id: "query_id" }),
      searches: new ConnectionSubscriptions(sql, { name: "conn_search", id: "sub_id" }),
      isDerivedQuery: (conn, queryId) => homeQueries?.isDerived(conn, queryId) ?? false,
    }),
  });
  // LWW leaf sums are stored on an alarm after a write (see merkle-store.ts): every alarm writes them, so they
  // ride with the write log's compaction and ask for no alarm of their own before it.
  const merkle = new MerkleStore(sql, () => {
    schedule(Date.now() + compactionDelayMs("later")).catch((err: unknown) => console.error("[owner] scheduling the Merkle checkpoint failed", err));
  });
  const lww = new LwwStore(sql, merkle, {
    onDirty: (due) => {
      schedule(Date.now() + compactionDelayMs(due)).catch((err: unknown) => console.error("[owner] scheduling the LWW compaction failed", err));
    },
  });
  // A write log left by the previous run of this object reaches lww_record before anything reads it.
  lww.recover();
  const or = new OrStore(sql, merkle);
  const interest = new InterestRegistry(sql);
  // Frames for connections of a home: delivered here when this partition is the home, else by one call to it.
  const deliver: DeliverToHome = async (home, conns, frames) =>
    home === id ? homeDelivery.deliver(conns, frames) : deps.homes(home).homeDeliver({ conns, frames });
  const deliverEach: DeliverEachToHome = async (home, deliveries) =>
    home === id
      ? homeDelivery.deliverEach(deliveries)
      : deps.homes(home).homeDeliverEach({ deliveries });
  const fanout = new EventFanout(interest, deliverEach);
  // Grouped and windowed query changes go to the subscriber's home coordinator: here, or by one call to it.
  const queryService = new QueryService({
    sql,
    lww,
    interest,
    deliver: deliverEach,
    partition: id,
    deliverEvents: async (home, events) =>
      home === id ? (homeQueries?.ownerEvents(events) ?? []) : deps.homes(home).homeQueryEvents({ events }),
  });
  const journal = new JournalService({
    sql,
    partition: id,
    deliver: deliverEach,
  });
  const searchService = new SearchService({
    sql,
    lww,
    indexes: new SearchIndexes({ sql, lww }),
    deliver: deliverEach,
  });
  const fence = new MapFence(sql, id);
  const moves = new MapMoves(sql);
  const knownMaps = new KnownMaps({ sql, ...(deps.reportMaps ? { report: deps.reportMaps } : {}) });
  const persistence = settings.HYPERDRIVE ? createPersistence(sql, settings.HYPERDRIVE, namespace, schedule) : undefined;
  const owner = new OwnerService({
    sql,
    writer: new CrdtWriter({ sql, lww, or, merkle, hlc, journal, ...(persistence ? { outbox: persistence.outbox } : {}) }),
    hlc,
    journal,
    ...(persistence ? { persistence } : {}),
    lww,
    or,
    merkle,
    interest,
    fanout,
    deliver: deliverEach,
    queries: queryService,
    search: searchService,
    knownMaps,
    fence,
    moves,
    expiry: new ExpirySweep({ sql, lww, or, hlc, outbox: persistence?.outbox, fanout, horizonMs, wakeAt: schedule }),
  });
  const orMover = new OrMover({ sql, or, staging: new OrStagingStore(sql), partition: id });
  const move = new OwnerMove({
    fence,
    moves,
    mover: new MapMover({ sql, lww, merkle, staging: new StagingStore(sql), partition: id, or: orMover }),
    orMover,
    queries: queryService,
    search: searchService,
    journal,
    interest,
    knownMaps,
    changed: (map) => {
      owner.forgetMap(map);
      // Moved records may carry TTLs and moved tombstones ages: the sweep's alarm must cover them here now.
      owner.scheduleSweep().catch((err: unknown) => console.error("[owner] scheduling the expiry sweep failed", err));
    },
  });
  // After a restart the alarm may not have been asked for yet (a crash between a write and its request): ask now.
  owner.scheduleSweep().catch((err: unknown) => console.error("[owner] scheduling the expiry sweep failed", err));
  const sender = new ConnectionSender(deliver);
  const coordinationOwner = new CoordinationOwner({
    topics: new TopicService({ sql, sender }),
    counters: new CounterService({ sql, sender }),
    locks: new LockService({ sql, sender, clock: Date.now, wakeAt: schedule }),
  });
  const coordination = new CoordinationCoordinator({ owners: deps.coordinationOwners, sql, home: id });
  const placement = new ShardCache({ defaults: shardConfigOf(settings), ...(deps.shardSnapshot ? { fetch: deps.shardSnapshot } : {}) });
  const shards = () => placement.config();
  const refreshShards = () => placement.refresh();
  const sync = new SyncCoordinator({ owners, shards, sql, hlc, home: id });
  const metrics = new PartitionMetrics();
  // Write calls to other owners are coalesced across batches and connections (this partition's own are direct calls).
  const coalescer = new OwnerCallCoalescer(owners);
  const writeOwners = (partition: number) => (partition === id ? owners(partition) : coalescer.owner(partition));
  const writes = new WriteCoordinator({
    owners: writeOwners, shards, refreshShards, hlc, home: id, counted: (applied, rejected) => metrics.countOps(applied, rejected), schemas: () => schemas.current(),
  });
  const queries = new QueryCoordinator({
    owners,
    shards,
    sql,
    home: id,
    send: async (conn, frames) => (await homeDelivery.deliver([conn], frames)).length === 0,
  });
  homeQueries = queries;
  const sqlQueries = new SqlCoordinator({ reader: queries.reader, enabled: !isOff(settings.TOPGUN_SQL) });
  const search = new SearchCoordinator({ owners, shards, sql, home: id });
  const processors = new ProcessorCoordinator({ owners, shards, home: id, schemas: () => schemas.current() });
  const journalHome = new JournalCoordinator({ owners, shards, sql, home: id });
  const handlers: Handlers = {
    writes,
    sync,
    queries,
    coordination,
    processors,
    journal: journalHome,
    search,
    access,
    schemas,
    sql: sqlQueries,
    placement,
    syncReset: syncReset(horizonMs),
    connectionClosed: async (conn) => {
      // Every feature's per-connection rows are in HOME_CONNECTION_TABLES (the sync feature's fresh-pull marks in
      // memory are bounded and expire on their own).
      if (!holdsConnectionState(sql, conn)) return;
      await Promise.all([coordination.closed(conn), dropClosedConnection(conn, id, [sync, queries, search, journalHome], owners)]);
    },
  };
  const opRate = opRateOf(settings.TOPGUN_OP_RATE);
  const session = new Session({
    auth: authenticatorFromSettings(settings),
    home: id,
    namespace,
    namespaceClaim: settings.TOPGUN_NAMESPACE_CLAIM,
    handlers,
    opRate,
  });
  const gateway = new HttpGateway({
    handlers,
    home: id,
    budgets: new CallerBudgets(opRate === "unlimited" ? { unlimited: true } : opRate),
  });
  const http = { sync: new HttpSync({ gateway, hlc, deltas: new DeltaReader({ access: handlers.access, owners, shards, refreshShards, resetRequired: handlers.syncReset }) }), api: new HttpApi({ gateway, hlc, access: handlers.access, owners, shards, refreshShards }) };
  const compactLwwStep = async () => {
    const left = lww.compactStep();
    if (left) await schedule(Date.now());
    return left;
  };
  // A compaction round re-arms the alarm at once after each step (~20 steps for 10,000 keys), and a tree written
  // between steps would store its whole snapshot (up to 48 KB) each time: the snapshot waits for the round's last
  // step, but at most CHECKPOINT_MAX_DEFER_MS while writes keep a round going.
  let checkpointedAt = Date.now();
  const checkpointMerkle = (compactionLeft: boolean) => {
    if (compactionLeft && Date.now() - checkpointedAt < CHECKPOINT_MAX_DEFER_MS) return;
    checkpointedAt = Date.now();
    merkle.checkpoint();
  };
  return {
    owner, move, session, coordination: coordinationOwner, persistence, checkpointMerkle, compactLwwStep, alarmFired: () => alarm.fired(),
    sweep: () => owner.sweep(), homeDelivery, http, metrics, queries,
  };
}

/** A switch set to "off", "0", "false" or "no" (any case). */
function isOff(value: string | undefined): boolean {
  return value !== undefined && ["off", "0", "false", "no"].includes(value.trim().toLowerCase());
}
