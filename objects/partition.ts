import { DurableObject } from "cloudflare:workers";
import { HLC } from "../core/hlc.ts";
import { parsePartitionObjectName } from "../core/object-name.ts";
import type { ORMapEntry } from "../core/or-map.ts";
import { isPeerGoneError } from "../core/errors.ts";
import { createAuthenticator } from "./authenticator.ts";
import { readConnectionState, type Connection, type ConnectionState } from "./connection.ts";
import { CrdtWriter } from "./crdt-writer.ts";
import { durableObjectSqlPort } from "./do-sql-port.ts";
import type { Env } from "./env.ts";
import { EventFanout, type ConnectionRef } from "./event-fanout.ts";
import { InterestRegistry } from "./interest-registry.ts";
import { LwwStore } from "./lww-store.ts";
import { MerkleStore, type TreeKind } from "./merkle-store.ts";
import type { LeafSumsWire, MerkleAnswer, OwnerApi, OwnerOp, OwnerOpOutcome } from "./owner-api.ts";
import { OwnerService } from "./owner-service.ts";
import { OrStore } from "./or-store.ts";
import { partitionStub } from "./partition-directory.ts";
import { applySchema } from "./schema.ts";
import { Session } from "./session.ts";
import { shardConfigOf } from "./shard-config.ts";
import { SyncCoordinator } from "./sync-coordinator.ts";
import { WriteCoordinator } from "./write-coordinator.ts";

interface Services {
  owner: OwnerService;
  session: Session;
}

/**
 * One of the 271 partitions of a namespace (`<namespace>/p<id>`). A thin shell: it decodes runtime events and
 * RPCs, finds the connection, and calls one service. Services are built on first use, not in the constructor.
 */
export class Partition extends DurableObject<Env> {
  readonly #namespace: string;
  readonly #id: number;
  #services: Services | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
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
    const conn = this.#connection(server, id);
    conn.update(conn.state);
    this.#get().session.opened(conn);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.#get().session.received(this.#connection(ws), message);
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    await this.#get().session.closed(this.#connection(ws).state.id);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.#get().session.closed(this.#connection(ws).state.id);
  }

  // Owner role, called by homes over RPC (OwnerApi).
  ownerApply(request: { ops: OwnerOp[]; writer: ConnectionRef }): Promise<OwnerOpOutcome[]> {
    return this.#get().owner.apply(request);
  }
  ownerSyncInit(request: { kind: TreeKind; map: string; listener: ConnectionRef }): Promise<LeafSumsWire> {
    return this.#get().owner.syncInit(request);
  }
  ownerMerkle(request: { kind: TreeKind; map: string; path: string }): Promise<MerkleAnswer> {
    return this.#get().owner.merkle(request);
  }
  ownerReadLeaf(request: { kind: TreeKind; map: string; leaf: number }): Promise<MerkleAnswer> {
    return this.#get().owner.readLeaf(request);
  }
  ownerOrDiff(request: { map: string; keys: string[] }): Promise<ORMapEntry[]> {
    return this.#get().owner.orDiff(request);
  }
  ownerPushOrDiff(request: { map: string; entries: ORMapEntry[]; writer: ConnectionRef }): Promise<void> {
    return this.#get().owner.pushOrDiff(request);
  }
  ownerDropConnection(request: ConnectionRef): Promise<void> {
    return this.#get().owner.dropConnection(request);
  }

  // Home role: an owner pushes frames to connections of this home; answers the ids no longer here.
  homeDeliver(request: { conns: string[]; frames: Uint8Array[] }): string[] {
    return this.#deliver(request.conns, request.frames);
  }

  #deliver(conns: readonly string[], frames: readonly Uint8Array[]): string[] {
    const unknown: string[] = [];
    for (const conn of conns) {
      const sockets = this.ctx.getWebSockets(conn);
      if (sockets.length === 0) unknown.push(conn);
      for (const ws of sockets) {
        try {
          for (const frame of frames) ws.send(frame);
        } catch (err) {
          if (!isPeerGoneError(err)) throw err;
          // The socket is closing; its close event cleans up.
        }
      }
    }
    return unknown;
  }

  #connection(ws: WebSocket, newId?: string): Connection {
    let state: ConnectionState = readConnectionState(ws.deserializeAttachment(), newId ?? this.ctx.getTags(ws)[0] ?? "");
    return {
      get state() {
        return state;
      },
      update(next) {
        state = next;
        ws.serializeAttachment(next);
      },
      send: (frame) => ws.send(frame),
      close: (code, reason) => ws.close(code, reason),
    };
  }

  #owner(partition: number): OwnerApi {
    if (partition === this.#id) return this.#get().owner;
    const stub = partitionStub(this.env, this.#namespace, partition);
    return {
      apply: (r) => stub.ownerApply(r),
      syncInit: (r) => stub.ownerSyncInit(r),
      merkle: (r) => stub.ownerMerkle(r),
      readLeaf: (r) => stub.ownerReadLeaf(r),
      orDiff: (r) => stub.ownerOrDiff(r),
      pushOrDiff: (r) => stub.ownerPushOrDiff(r),
      dropConnection: (r) => stub.ownerDropConnection(r),
    };
  }

  #get(): Services {
    if (this.#services) return this.#services;
    const sql = durableObjectSqlPort(this.ctx.storage);
    applySchema(sql);
    const hlc = new HLC(`edge-p${this.#id}`);
    const merkle = new MerkleStore(sql);
    const lww = new LwwStore(sql, merkle);
    const or = new OrStore(sql, merkle);
    const interest = new InterestRegistry(sql);
    const fanout = new EventFanout(interest, async (home, conns, frames) =>
      home === this.#id
        ? this.#deliver(conns, frames)
        : partitionStub(this.env, this.#namespace, home).homeDeliver({ conns, frames }),
    );
    const owner = new OwnerService({ sql, writer: new CrdtWriter({ sql, lww, or, merkle, hlc }), lww, or, merkle, interest, fanout });
    const shards = () => shardConfigOf(this.env);
    const owners = (partition: number) => this.#owner(partition);
    const sync = new SyncCoordinator({ owners, shards, sql, hlc, home: this.#id });
    const writes = new WriteCoordinator({ owners, shards, hlc, home: this.#id });
    const auth = createAuthenticator({
      secret: this.env.JWT_SECRET,
      noAuth: this.env.TOPGUN_NO_AUTH === "1" || this.env.TOPGUN_NO_AUTH === "true",
    });
    const session = new Session({
      auth,
      home: this.#id,
      handlers: { writes, sync, connectionClosed: (conn) => sync.closed(conn) },
    });
    this.#services = { owner, session };
    return this.#services;
  }
}
