import { DurableObject } from "cloudflare:workers";
import { parsePartitionObjectName } from "../core/object-name.ts";
import type { ORMapEntry } from "../core/or-record.ts";
import type { JournalEventData, PNCounterState, Query } from "../core/protocol/shared.ts";
import type { JournalFilter } from "./journal/journal-service.ts";
import type { QueryAnswer } from "./queries/query-answer.ts";
import type { QueryEvent } from "./delivery/query-events.ts";
import type { HomeApi } from "./delivery/home-deliveries.ts";
import type { SearchOptions } from "../core/protocol/shared.ts";
import type { SearchResult } from "./search/search-service.ts";
import type { TermStats } from "./search/term-stats.ts";
import { isPeerGoneError } from "../core/errors.ts";
import { principalOf, readConnectionState, type Connection, type ConnectionState } from "./session/connection.ts";
import type { DeliverySocket } from "./session/home-delivery.ts";
import { OpenSockets } from "./session/open-sockets.ts";
import type { Settings } from "./settings.ts";
import type { CoordinationApi } from "./coordination/coordination-api.ts";
import type { ConnectionRef } from "./delivery/event-fanout.ts";
import type { LockOutcome, LockRequest } from "./coordination/lock-service.ts";
import type { TopicPublish } from "./coordination/topic-service.ts";
import type { TreeKind } from "./writes/merkle-store.ts";
import { createPartitionServices, type Services } from "./partition-services.ts";
import type { LWWRecord } from "../core/lww-map.ts";
import type { Timestamp } from "../core/hlc.ts";
import type { OwnerApi } from "./owner-api.ts";
import type { ChangesSince, MerkleAnswer, SyncInitAnswer } from "./sync/sync-owner.ts";
import type { ApplyRequest, OwnerOpOutcome, ProcessOutcome } from "./writes/owner-op.ts";
import { PartitionPorts, partitionStub } from "./partition-directory.ts";
import { controlApi, type Control } from "./control/control.ts";
import type { MapSchema } from "../core/map-schema.ts";
import type { Principal } from "../core/principal.ts";
import type { HttpSyncRequest, HttpSyncResponse } from "../core/protocol/http-sync.ts";
import type { HttpCall, HttpOutcome } from "./http/http-call.ts";
import type { HttpSyncRefusal } from "./http/http-sync.ts";
import type { MetricsSnapshot } from "./partition-metrics.ts";
import type { MapOccupancy } from "./placement/map-fence.ts";
import type { MoveAnswer, MoveStep } from "./migration/move-step.ts";
import { ISOLATE_CACHE_BUDGET } from "./storage/isolate-budget.ts";

/** What a partition reports about itself (`partitionStatus`). */
export interface PartitionStatus extends MetricsSnapshot {
  connections: number;
  /** Estimated bytes of the in-memory caches of the isolate this partition runs in (every object of it together). */
  isolateCacheBytes: number;
  /** Write-through only: changes waiting in the outbox and the age of the oldest. */
  outboxDepth?: number;
  outboxLagMs?: number;
}

/** The bindings a partition sees: the deployment's settings and its own class's namespace. */
export interface PartitionEnv extends Settings {
  PARTITION: DurableObjectNamespace<Partition>;
  /** Each namespace's control object (policies); absent in test configurations without one. */
  CONTROL?: DurableObjectNamespace<Control>;
}

/**
 * One of the 271 partitions of a namespace (`<namespace>/p<id>`). A thin shell: it decodes runtime events and
 * RPCs, finds the connection, and calls one service. Services are built on first use, not in the constructor.
 */
export class Partition extends DurableObject<PartitionEnv> {
  readonly #namespace: string;
  readonly #id: number;
  #services: Services | undefined;
  /** Each open socket's state, so a message does not deserialize the attachment (after hibernation read once, then kept). */
  readonly #states = new WeakMap<WebSocket, ConnectionState>();
  /** Open sockets by connection id, so deliveries need not ask the runtime for each (open-sockets.ts). */
  readonly #sockets = new OpenSockets<WebSocket>((conn) => this.ctx.getWebSockets(conn));
  /** Each socket's delivery handle, made once per socket (its principal read from the current state). */
  readonly #deliverySockets = new WeakMap<WebSocket, DeliverySocket>();

  constructor(ctx: DurableObjectState, env: PartitionEnv) {
    super(ctx, env);
    const parsed = parsePartitionObjectName(ctx.id.name ?? "");
    if (!parsed) throw new Error(`Partition needs a name of the form <namespace>/p<id>, got ${String(ctx.id.name)}`);
    this.#namespace = parsed.namespace;
    this.#id = parsed.partitionId;
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ error: "expected a WebSocket upgrade" }, { status: 426 });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    const id = crypto.randomUUID();
    this.ctx.acceptWebSocket(server, [id]);
    this.#sockets.opened(id, server);
    const conn = this.#connection(server, id);
    conn.update(conn.state);
    this.#get().session.opened(conn);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.#get().session.received(this.#connection(ws), message);
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    await this.#socketClosed(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.#socketClosed(ws);
  }

  async #socketClosed(ws: WebSocket): Promise<void> {
    const { id } = this.#stateOf(ws);
    this.#sockets.closed(id);
    await this.#get().session.closed(id);
  }

  // Home role for HTTP callers, called by the Worker with the principal it authenticated.
  httpSync(request: { principal: Principal; body: HttpSyncRequest }): Promise<HttpSyncResponse | HttpSyncRefusal> {
    const services = this.#get();
    services.metrics.countHttpSync();
    return services.http.sync.sync(request.principal, request.body);
  }
  httpCall(request: { principal: Principal; call: HttpCall }): Promise<HttpOutcome> {
    const services = this.#get();
    services.metrics.countHttpApi();
    return services.http.api.call(request.principal, request.call);
  }

  /** This partition's counters, open sockets and outbox, for `/metrics` and `/api/admin/status`. */
  async partitionStatus(): Promise<PartitionStatus> {
    const services = this.#get();
    const outbox = await services.owner.stats();
    const cache = ISOLATE_CACHE_BUDGET.bytes();
    return {
      connections: this.ctx.getWebSockets().length,
      isolateCacheBytes: cache.evictable + cache.pinned,
      ...services.metrics.snapshot(),
      ...(outbox ? { outboxDepth: outbox.depth, outboxLagMs: outbox.lagMs } : {}),
    };
  }

  // Owner role, called by homes over RPC (OwnerApi).
  ownerApply(request: ApplyRequest): Promise<OwnerOpOutcome[]> {
    return this.#get().owner.apply(request);
  }
  ownerApplyBatches(request: { requests: ApplyRequest[] }): Promise<OwnerOpOutcome[][]> {
    return this.#get().owner.applyBatches(request);
  }
  ownerMapCounts(request: { maps: string[] }): Promise<{ name: string; entryCount: number }[]> {
    return this.#get().owner.mapCounts(request);
  }
  ownerStats(): Promise<{ depth: number; lagMs: number } | undefined> {
    return this.#get().owner.stats();
  }
  ownerSyncInit(request: { kind: TreeKind; map: string; listener: ConnectionRef; shards?: number; changesSince?: ChangesSince }): Promise<SyncInitAnswer> {
    return this.#get().owner.syncInit(request);
  }
  ownerMerkle(request: { kind: TreeKind; map: string; path: string; recordsUpTo?: number; shards?: number }): Promise<MerkleAnswer> {
    return this.#get().owner.merkle(request);
  }
  ownerReadLeaf(request: { kind: TreeKind; map: string; leaf: number; shards?: number }): Promise<MerkleAnswer> {
    return this.#get().owner.readLeaf(request);
  }
  ownerReadLeafRange(request: { kind: TreeKind; map: string; first: number; last: number; shards?: number }): Promise<MerkleAnswer> {
    return this.#get().owner.readLeafRange(request);
  }
  ownerReadRecords(request: { map: string; keys: string[]; shards?: number }): Promise<{ key: string; record: LWWRecord }[]> {
    return this.#get().owner.readRecords(request);
  }
  ownerReadSince(request: { map: string; since: Timestamp; limit: number; shards?: number }): Promise<{ key: string; record: LWWRecord }[]> {
    return this.#get().owner.readSince(request);
  }
  ownerOrDiff(request: { map: string; keys: string[]; shards?: number }): Promise<ORMapEntry[]> {
    return this.#get().owner.orDiff(request);
  }
  ownerPushOrDiff(request: { map: string; entries: ORMapEntry[]; writer: ConnectionRef }): Promise<void> {
    return this.#get().owner.pushOrDiff(request);
  }
  ownerDropConnection(request: ConnectionRef): Promise<void> {
    return this.#get().owner.dropConnection(request);
  }
  ownerQuerySubscribe(request: { map: string; queryId: string; query: Query; fields?: string[] | undefined; subscriber: ConnectionRef; shards?: number }): Promise<QueryAnswer> {
    return this.#get().owner.querySubscribe(request);
  }
  ownerQueryRead(request: { map: string; query: Query; shards?: number }): Promise<QueryAnswer> {
    return this.#get().owner.queryRead(request);
  }
  ownerQueryUnsubscribe(request: { queryId: string; subscriber: ConnectionRef }): Promise<void> {
    return this.#get().owner.queryUnsubscribe(request);
  }
  ownerSearchStats(request: { map: string; query: string; shards?: number }): Promise<TermStats> {
    return this.#get().owner.searchStats(request);
  }
  ownerSearch(request: { map: string; query: string; options: SearchOptions; stats?: TermStats | undefined; shards?: number }): Promise<SearchResult[]> {
    return this.#get().owner.search(request);
  }
  ownerSearchSubscribe(request: Parameters<OwnerApi["searchSubscribe"]>[0]): Promise<SearchResult[]> {
    return this.#get().owner.searchSubscribe(request);
  }
  ownerSearchUnsubscribe(request: { subscriptionId: string; subscriber: ConnectionRef }): Promise<void> {
    return this.#get().owner.searchUnsubscribe(request);
  }
  ownerProcess(request: { map: string; keys: string[]; processor: { name: string; args?: unknown }; writer: ConnectionRef; schema?: MapSchema }): Promise<Record<string, ProcessOutcome>> {
    return this.#get().owner.process(request);
  }
  ownerJournalRead(request: { fromSequence: string; limit: number; map?: string }): Promise<JournalEventData[]> {
    return this.#get().owner.journalRead(request);
  }
  ownerJournalSubscribe(request: { subscriptionId: string; fromSequence?: string; filter: JournalFilter; subscriber: ConnectionRef; shards?: number }): Promise<JournalEventData[]> {
    return this.#get().owner.journalSubscribe(request);
  }
  ownerJournalUnsubscribe(request: { subscriptionId: string; subscriber: ConnectionRef }): Promise<void> {
    return this.#get().owner.journalUnsubscribe(request);
  }

  // Owner role during a reshard, called by the namespace's control object (objects/control/resharder.ts).
  ownerInspectMap(request: { map: string }): Promise<MapOccupancy> {
    return this.#get().owner.inspectMap(request);
  }
  ownerFenceMap(request: { map: string; shards: number }): Promise<MapOccupancy> {
    return this.#get().owner.fenceMap(request);
  }
  ownerMove(step: MoveStep): MoveAnswer {
    return this.#get().move.run(step);
  }

  // Owner role for topics, counters and locks (CoordinationApi).
  ownerTopicSubscribe(request: { topic: string; subscriber: ConnectionRef }): Promise<void> {
    return this.#get().coordination.topicSubscribe(request);
  }
  ownerTopicUnsubscribe(request: { topic: string; subscriber: ConnectionRef }): Promise<void> {
    return this.#get().coordination.topicUnsubscribe(request);
  }
  ownerTopicPublish(request: TopicPublish): Promise<void> {
    return this.#get().coordination.topicPublish(request);
  }
  ownerCounterRequest(request: { name: string; subscriber: ConnectionRef }): Promise<PNCounterState> {
    return this.#get().coordination.counterRequest(request);
  }
  ownerCounterSync(request: { name: string; state: PNCounterState; sender: ConnectionRef }): Promise<PNCounterState> {
    return this.#get().coordination.counterSync(request);
  }
  ownerLockRequest(request: LockRequest): Promise<LockOutcome> {
    return this.#get().coordination.lockRequest(request);
  }
  ownerLockRelease(request: { name: string; fencingToken: number; holder: ConnectionRef }): Promise<boolean> {
    return this.#get().coordination.lockRelease(request);
  }
  ownerCoordinationDrop(request: ConnectionRef): Promise<void> {
    return this.#get().coordination.dropConnection(request);
  }

  /**
   * Lock expiry, Postgres flush retries, LWW write-log compaction, Merkle leaf checkpoints, and the sweep of expired
   * records and old tombstones (the alarm is shared: see alarm-schedule.ts).
   */
  override async alarm(): Promise<void> {
    const services = this.#get();
    services.alarmFired();
    // Each feature runs even when another fails; a failure is rethrown after, so the runtime retries the alarm.
    // The sweep runs after the compaction step, so it sees the records that step moved into lww_record.
    const compaction = Promise.resolve().then(() => services.compactLwwStep());
    const results = await Promise.allSettled([
      compaction,
      compaction.then((left) => services.checkpointMerkle(left), () => services.checkpointMerkle(false)),
      services.coordination.alarm(),
      services.persistence?.alarm(),
      Promise.resolve().then(() => services.sweep()),
    ]);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  // Home role: an owner pushes frames to connections of this home; answers the ids no longer here.
  homeDeliver(request: { conns: string[]; frames: Uint8Array[] }): string[] | Promise<string[]> {
    return this.#get().homeDelivery.deliver(request.conns, request.frames);
  }
  homeDeliverEach(request: { deliveries: { conn: string; frames: Uint8Array[] }[] }): string[] | Promise<string[]> {
    return this.#get().homeDelivery.deliverEach(request.deliveries);
  }
  homeQueryEvents(request: { events: QueryEvent[] }): Promise<string[]> {
    return this.#get().queries.ownerEvents(request.events);
  }

  #socketsOf(conn: string): DeliverySocket[] {
    return this.#sockets.of(conn).map((ws) => this.#deliverySocket(ws));
  }

  #deliverySocket(ws: WebSocket): DeliverySocket {
    let socket = this.#deliverySockets.get(ws);
    if (socket) return socket;
    const stateOf = (w: WebSocket) => this.#stateOf(w);
    socket = {
      get principal() {
        return principalOf(stateOf(ws));
      },
      send: (frame) => {
        try {
          ws.send(frame);
        } catch (err) {
          if (!isPeerGoneError(err)) throw err;
          // The socket is closing; its close event cleans up.
        }
      },
    };
    this.#deliverySockets.set(ws, socket);
    return socket;
  }

  /** The socket's state, from memory or (after hibernation) its attachment. */
  #stateOf(ws: WebSocket): ConnectionState {
    let state = this.#states.get(ws);
    if (state === undefined) {
      state = readConnectionState(ws.deserializeAttachment(), this.ctx.getTags(ws)[0] ?? "");
      this.#states.set(ws, state);
    }
    return state;
  }

  #connection(ws: WebSocket, newId?: string): Connection {
    let state: ConnectionState = newId === undefined ? this.#stateOf(ws) : readConnectionState(ws.deserializeAttachment(), newId);
    const states = this.#states;
    return {
      get state() {
        return state;
      },
      update(next) {
        state = next;
        states.set(ws, next);
        ws.serializeAttachment(next);
      },
      send: (frame) => ws.send(frame),
      close: (code, reason) => ws.close(code, reason),
    };
  }

  readonly #ownerPorts = new PartitionPorts((partition) => this.#remoteOwner(partition));
  readonly #coordinationPorts = new PartitionPorts((partition) => this.#remoteCoordination(partition));
  readonly #homePorts = new PartitionPorts((partition): HomeApi => {
    const stub = partitionStub(this.env.PARTITION, this.#namespace, partition);
    return {
      homeDeliver: (r) => stub.homeDeliver(r),
      homeDeliverEach: (r) => stub.homeDeliverEach(r),
      homeQueryEvents: (r) => stub.homeQueryEvents(r),
    };
  });

  #owner(partition: number): OwnerApi {
    return partition === this.#id ? this.#get().owner : this.#ownerPorts.get(partition);
  }

  #remoteOwner(partition: number): OwnerApi {
    const stub = partitionStub(this.env.PARTITION, this.#namespace, partition);
    return {
      apply: (r) => stub.ownerApply(r),
      applyBatches: (r) => stub.ownerApplyBatches(r),
      syncInit: (r) => stub.ownerSyncInit(r),
      merkle: (r) => stub.ownerMerkle(r),
      readLeaf: (r) => stub.ownerReadLeaf(r),
      readLeafRange: (r) => stub.ownerReadLeafRange(r),
      orDiff: (r) => stub.ownerOrDiff(r),
      readRecords: (r) => stub.ownerReadRecords(r),
      readSince: (r) => stub.ownerReadSince(r),
      pushOrDiff: (r) => stub.ownerPushOrDiff(r),
      dropConnection: (r) => stub.ownerDropConnection(r),
      querySubscribe: (r) => stub.ownerQuerySubscribe(r),
      queryUnsubscribe: (r) => stub.ownerQueryUnsubscribe(r),
      queryRead: (r) => stub.ownerQueryRead(r),
      searchStats: (r) => stub.ownerSearchStats(r),
      search: (r) => stub.ownerSearch(r),
      searchSubscribe: (r) => stub.ownerSearchSubscribe(r),
      searchUnsubscribe: (r) => stub.ownerSearchUnsubscribe(r),
      process: (r) => stub.ownerProcess(r),
      journalRead: (r) => stub.ownerJournalRead(r),
      journalSubscribe: (r) => stub.ownerJournalSubscribe(r),
      journalUnsubscribe: (r) => stub.ownerJournalUnsubscribe(r),
      stats: () => stub.ownerStats(),
    };
  }

  #coordination(partition: number): CoordinationApi {
    return partition === this.#id ? this.#get().coordination : this.#coordinationPorts.get(partition);
  }

  #remoteCoordination(partition: number): CoordinationApi {
    const stub = partitionStub(this.env.PARTITION, this.#namespace, partition);
    return {
      topicSubscribe: (r) => stub.ownerTopicSubscribe(r),
      topicUnsubscribe: (r) => stub.ownerTopicUnsubscribe(r),
      topicPublish: (r) => stub.ownerTopicPublish(r),
      counterRequest: (r) => stub.ownerCounterRequest(r),
      counterSync: (r) => stub.ownerCounterSync(r),
      lockRequest: (r) => stub.ownerLockRequest(r),
      lockRelease: (r) => stub.ownerLockRelease(r),
      dropConnection: (r) => stub.ownerCoordinationDrop(r),
    };
  }

  // The namespace's one control object, as a port made once and remade after a failed call (every partition asks
  // it for the policies about once a second while it serves traffic).
  readonly #controlPort = new PartitionPorts(() => {
    const binding = this.env.CONTROL;
    if (!binding) throw new Error("no CONTROL binding");
    return controlApi(binding, this.#namespace);
  });

  #control() {
    return this.#controlPort.get(0);
  }

  #get(): Services {
    this.#services ??= createPartitionServices({
      ctx: this.ctx,
      settings: this.env,
      homes: (partition) => this.#homePorts.get(partition),
      ...(this.env.CONTROL
        ? {
            policySnapshot: () => this.#control().policySnapshot(),
            shardSnapshot: () => this.#control().shardSnapshot(),
            schemaChanges: (known?: number) => this.#control().schemaChanges(known),
            reportMaps: (maps: string[]) => this.#control().reportMaps({ partition: this.#id, maps }),
          }
        : {}),
      namespace: this.#namespace,
      id: this.#id,
      owners: (partition) => this.#owner(partition),
      coordinationOwners: (partition) => this.#coordination(partition),
      socketsOf: (conn) => this.#socketsOf(conn),
    });
    return this.#services;
  }
}
