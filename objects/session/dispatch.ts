import { permits, RESOURCE_PREFIX, restrictQuery, type Access } from "../../core/access-policy.ts";
import { ProtocolError, toErrorMessage } from "../../core/errors.ts";
import { isStalePlacementError } from "../../core/placement.ts";
import type { SchemaSet } from "../../core/map-schema.ts";
import type { ClientOp, ORMapEntry, WriteConcern } from "../../core/protocol/shared.ts";
import type { Principal } from "../../core/principal.ts";
import type { ClientMessage } from "../../core/protocol/message.ts";
import type { AccessGuard, AccessOf } from "../access/access-guard.ts";
import type { SchemaCache } from "../access/schema-cache.ts";
import type { CoordinationCoordinator } from "../coordination/coordination-coordinator.ts";
import type { JournalCoordinator } from "../journal/journal-coordinator.ts";
import type { ProcessorCoordinator } from "../writes/processor-coordinator.ts";
import type { QueryCoordinator } from "../queries/query-coordinator.ts";
import type { SearchCoordinator } from "../search/search-coordinator.ts";
import type { SqlCoordinator } from "../sql/sql-coordinator.ts";
import type { SyncCoordinator } from "../sync/sync-coordinator.ts";
import type { SyncReset } from "../sync/sync-reset.ts";
import type { WriteCoordinator } from "../writes/write-coordinator.ts";

/** The services a home dispatches to. */
export interface Handlers {
  writes: WriteCoordinator;
  sync: SyncCoordinator;
  queries: QueryCoordinator;
  coordination: CoordinationCoordinator;
  processors: ProcessorCoordinator;
  journal: JournalCoordinator;
  search: SearchCoordinator;
  /** Access policies: asked before every message that reads or writes data. */
  access: AccessGuard;
  /** The namespace's map schemas (cached copy): SCHEMA_GET, and the values of OR-Map merges. */
  schemas: SchemaCache;
  sql: SqlCoordinator;
  /** The home's copy of the namespace's shard counts: brought up to date (at most once a second) before each message. */
  placement?: { ready(): void | Promise<void>; refresh(): Promise<void> };
  /** SYNC_RESET_REQUIRED for a client whose last sync is older than the tombstone horizon (objects/sync/sync-reset.ts). */
  syncReset: SyncReset;
  connectionClosed(conn: string): Promise<void>;
}

export interface DispatchContext {
  conn: string;
  /** Who the connection authenticated as (id null when the token named no one). */
  principal: Principal;
  reply: (message: unknown) => void;
  /**
   * Given, a write returns once it was placed and hands over the promise of its answer (the session's write
   * pipeline); absent, a write returns once it was answered.
   */
  pipeline?: (answered: Promise<void>) => void;
}

const RESOLVERS_UNSUPPORTED = "conflict resolvers are not supported on the edge (no sandbox for custom code)";

/**
 * Routes one authenticated message to its handler. AUTH, PING and BATCH are handled by the session itself. An owner
 * that refuses a stale placement (the map was resharded since this home's copy of the shard counts) has registered
 * nothing: the message is handled once more with a fresh copy.
 */
export async function dispatch(message: ClientMessage, h: Handlers, ctx: DispatchContext): Promise<void> {
  await h.placement?.ready();
  try {
    await dispatchOnce(message, h, ctx);
  } catch (err) {
    if (!h.placement || !isStalePlacementError(err)) throw err;
    await h.placement.refresh();
    await dispatchOnce(message, h, ctx);
  }
}

async function dispatchOnce(message: ClientMessage, h: Handlers, ctx: DispatchContext): Promise<void> {
  const { conn, reply } = ctx;
  const accessOf = await h.access.forPrincipal(ctx.principal);
  const readWhole = (map: string, why: string) => requireWhole(accessOf, "read", map, why);
  switch (message.type) {
    case "AUTH":
    case "PING":
    case "BATCH":
      return;
    case "CLIENT_OP":
      return write(h, ctx, [message.payload], message.payload.writeConcern ?? undefined, accessOf);
    case "OP_BATCH":
      return write(h, ctx, message.payload.ops, message.payload.writeConcern ?? undefined, accessOf);
    case "SYNC_INIT": {
      readWhole(message.mapName, MERKLE_NEEDS_WHOLE_MAP);
      const reset = h.syncReset(message.mapName, message.lastSyncTimestamp);
      if (reset) return reply(reset);
      // A client that never synced this map holds none of it: its pull may take whole subtrees at once.
      h.sync.notePull(conn, message.mapName, { fresh: !message.lastSyncTimestamp });
      return h.sync.init(conn, "lww", message.mapName, reply, message.lastSyncTimestamp ?? undefined);
    }
    case "ORMAP_SYNC_INIT": {
      readWhole(message.mapName, MERKLE_NEEDS_WHOLE_MAP);
      const reset = h.syncReset(message.mapName, message.lastSyncTimestamp);
      if (reset) return reply(reset);
      return h.sync.init(conn, "or", message.mapName, reply, message.lastSyncTimestamp ?? undefined);
    }
    case "MERKLE_REQ_BUCKET":
      readWhole(message.payload.mapName, MERKLE_NEEDS_WHOLE_MAP);
      return bucket(h, conn, "lww", message.payload, reply);
    case "ORMAP_MERKLE_REQ_BUCKET":
      readWhole(message.payload.mapName, MERKLE_NEEDS_WHOLE_MAP);
      return bucket(h, conn, "or", message.payload, reply);
    case "ORMAP_DIFF_REQUEST":
      readWhole(message.payload.mapName, MERKLE_NEEDS_WHOLE_MAP);
      return h.sync.orDiff(message.payload.mapName, message.payload.keys, reply);
    case "ORMAP_PUSH_DIFF":
      requireWhole(accessOf, "write", message.payload.mapName, "an OR-Map merge needs write access to every record");
      return h.sync.pushDiff(conn, message.payload.mapName, conforming(await schemasOf(h), message.payload.mapName, message.payload.entries, reply));
    case "PARTITION_MAP_REQUEST":
      return; // The edge routes keys itself: clients stay in single-server mode (PROTOCOL.md Part A 13).
    case "REGISTER_RESOLVER":
      return reply({ type: "REGISTER_RESOLVER_RESPONSE", requestId: message.requestId, success: false, error: RESOLVERS_UNSUPPORTED });
    case "UNREGISTER_RESOLVER":
      return reply({ type: "UNREGISTER_RESOLVER_RESPONSE", requestId: message.requestId, success: false, error: RESOLVERS_UNSUPPORTED });
    case "LIST_RESOLVERS":
      return reply({ type: "LIST_RESOLVERS_RESPONSE", requestId: message.requestId, resolvers: [] });
    case "QUERY_SUB": {
      const access = requireSome(accessOf, "read", message.payload.mapName);
      const payload = access.kind === "filter" ? { ...message.payload, query: restrictQuery(message.payload.query, access.filter) } : message.payload;
      return h.queries.subscribe(conn, payload, reply);
    }
    case "QUERY_UNSUB":
      return h.queries.unsubscribe(conn, message.payload.queryId);
    case "QUERY_SYNC_INIT":
      return; // The per-query Merkle path is retired: accepted, never answered (PROTOCOL-NEXT.md §4.2).
    case "SQL_QUERY": {
      // A SELECT reads one map: the same record filter as a QUERY_SUB of it (PROTOCOL-NEXT.md §5).
      const readFilter = (map: string) => {
        const access = requireSome(accessOf, "read", map);
        return access.kind === "filter" ? access.filter : undefined;
      };
      return reply({ type: "SQL_QUERY_RESP", payload: await h.sql.run(message.payload, { readFilter }) });
    }
    case "TOPIC_SUB":
      requireWhole(accessOf, "read", RESOURCE_PREFIX.topic + message.payload.topic, "a subscription receives every message of the topic");
      return h.coordination.topicSubscribe(conn, message.payload.topic);
    case "TOPIC_UNSUB":
      return h.coordination.topicUnsubscribe(conn, message.payload.topic);
    case "TOPIC_PUB":
      requireRecord(accessOf, "write", RESOURCE_PREFIX.topic + message.payload.topic, message.payload.data);
      return h.coordination.topicPublish(conn, ctx.principal.id ?? conn, message.payload.topic, message.payload.data);
    case "COUNTER_REQUEST":
      requireWhole(accessOf, "read", RESOURCE_PREFIX.counter + message.payload.name, "a counter has no records");
      return h.coordination.counterRequest(conn, message.payload.name, reply);
    case "COUNTER_SYNC":
      requireWhole(accessOf, "write", RESOURCE_PREFIX.counter + message.payload.name, "a counter has no records");
      return h.coordination.counterSync(conn, message.payload.name, message.payload.state, reply);
    case "LOCK_REQUEST":
      requireWhole(accessOf, "write", RESOURCE_PREFIX.lock + message.payload.name, "a lock has no records");
      return h.coordination.lockRequest(conn, message.payload, reply);
    case "LOCK_RELEASE":
      return h.coordination.lockRelease(conn, message.payload, reply);
    case "SEARCH": {
      const access = requireSome(accessOf, "read", message.payload.mapName);
      return h.search.search(message.payload, reply, access.kind === "filter" ? (hit) => permits(access, hit.value, hit.key) : undefined);
    }
    case "SEARCH_SUB":
      readWhole(message.payload.mapName, "live search needs read access to every record");
      return h.search.subscribe(conn, message.payload, reply);
    case "SEARCH_UNSUB":
      return h.search.unsubscribe(conn, message.payload.subscriptionId); // no reply (PROTOCOL.md §3 row 37: see search-coordinator.ts)
    case "ENTRY_PROCESS": {
      const access = requireSome(accessOf, "write", message.mapName);
      return h.processors.process(conn, message, reply, access.kind === "filter" ? access.filter : undefined);
    }
    case "ENTRY_PROCESS_BATCH": {
      const access = requireSome(accessOf, "write", message.mapName);
      return h.processors.processBatch(conn, message, reply, access.kind === "filter" ? access.filter : undefined);
    }
    case "JOURNAL_SUBSCRIBE":
      await requireJournal(h, ctx, accessOf, message.mapName);
      return h.journal.subscribe(conn, message, reply);
    case "JOURNAL_UNSUBSCRIBE":
      return h.journal.unsubscribe(conn, message.subscriptionId);
    case "JOURNAL_READ":
      await requireJournal(h, ctx, accessOf, message.mapName);
      return h.journal.read(message, reply);
    case "SCHEMA_GET":
      return schemaGet(h, accessOf, message.payload, reply);
    default:
      return assertNever(message);
  }
}

/** SCHEMA_GET → SCHEMA_RESP: the map's schema for a caller that may read the map; a refusal is an answer too. */
async function schemaGet(h: Handlers, accessOf: AccessOf, request: { requestId: string; mapName: string }, reply: (m: unknown) => void): Promise<void> {
  const { requestId, mapName } = request;
  if (accessOf({ action: "read", resource: mapName }).kind === "none") {
    const err = forbidden("read", mapName);
    return reply({ type: "SCHEMA_RESP", payload: { requestId, mapName, version: 0, error: err.safeMessage, code: err.code } });
  }
  let set: SchemaSet;
  try {
    set = await schemasOf(h);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return reply({ type: "SCHEMA_RESP", payload: { requestId, mapName, version: 0, error: err.safeMessage, code: err.code } });
  }
  const schema = set.schemaOf(mapName);
  reply({ type: "SCHEMA_RESP", payload: schema ? { requestId, mapName, version: schema.version, schema: schema.schema } : { requestId, mapName, version: 0 } });
}

/** The partition's copy of the map schemas; without one (and no control object to ask) ERROR 503: nothing is applied. */
async function schemasOf(h: Handlers): Promise<SchemaSet> {
  try {
    return await h.schemas.current();
  } catch (err) {
    throw new ProtocolError("UNAVAILABLE", "map schemas unavailable; retry", { cause: err });
  }
}

/**
 * The entries of an OR-Map merge without the records whose values break the map's schema (tombstones stay); the
 * first refusal is reported as ERROR 422 naming the key, path and rule.
 */
function conforming(schemas: SchemaSet, map: string, entries: readonly ORMapEntry[], reply: (m: unknown) => void): ORMapEntry[] {
  if (schemas.schemaOf(map) === undefined) return [...entries];
  let refused: string | undefined;
  const kept = entries.map((entry) => {
    const records = entry.records.filter((record) => {
      const violation = schemas.violation(map, record.value);
      if (violation !== undefined) refused ??= `key ${entry.key}: ${violation}`;
      return violation === undefined;
    });
    return records.length === entry.records.length ? entry : { ...entry, records };
  });
  if (refused !== undefined) reply(toErrorMessage(new ProtocolError("SCHEMA_VIOLATION", refused)));
  return kept;
}

const MERKLE_NEEDS_WHOLE_MAP = "Merkle sync needs read access to every record; use a query";

/** The access unless it is none; a denial becomes ERROR 403 (PROTOCOL-NEXT.md §5.4, Edge rule). */
function requireSome(accessOf: AccessOf, action: "read" | "write", resource: string): Access {
  const access = accessOf({ action, resource });
  if (access.kind === "none") throw forbidden(action, resource);
  return access;
}

/** For paths that cannot filter per record: anything short of the whole resource is refused, saying why. */
function requireWhole(accessOf: AccessOf, action: "read" | "write", resource: string, why: string): void {
  const access = requireSome(accessOf, action, resource);
  if (access.kind === "filter") throw forbidden(action, resource, why);
}

/** One value (a topic message) checked against a record condition. */
function requireRecord(accessOf: AccessOf, action: "read" | "write", resource: string, value: unknown): void {
  if (!permits(requireSome(accessOf, action, resource), value)) throw forbidden(action, resource);
}

/** The journal carries values: a map's journal needs the whole map; the journal of every map needs every map. */
async function requireJournal(h: Handlers, ctx: DispatchContext, accessOf: AccessOf, map: string | null | undefined): Promise<void> {
  if (typeof map === "string") return requireWhole(accessOf, "read", map, "the journal carries every record's values");
  if (!(await h.access.readsEverything(ctx.principal))) {
    throw new ProtocolError("FORBIDDEN", "forbidden: the journal of all maps needs read access to every map; name a map");
  }
}

function forbidden(action: "read" | "write", resource: string, why?: string): ProtocolError {
  const what = resource.startsWith(RESOURCE_PREFIX.topic) || resource.startsWith(RESOURCE_PREFIX.counter) || resource.startsWith(RESOURCE_PREFIX.lock) ? resource : `map: ${resource}`;
  return new ProtocolError("FORBIDDEN", `forbidden: ${action} access denied for ${what}${why === undefined ? "" : ` (${why})`}`);
}

async function bucket(
  h: Handlers,
  conn: string,
  kind: "lww" | "or",
  payload: { mapName: string; path: string },
  reply: (message: unknown) => void,
): Promise<void> {
  const handled = await h.sync.bucket(conn, kind, payload.mapName, payload.path, reply);
  if (!handled) throw new ProtocolError("INVALID_MESSAGE", "path must be lowercase hex digits");
}

function assertNever(value: never): never {
  throw new Error(`unhandled message ${JSON.stringify(value)}`);
}

/** A write: placed, then answered in the pipeline (or awaited here when the caller keeps no pipeline). */
async function write(h: Handlers, ctx: DispatchContext, ops: readonly ClientOp[], writeConcern: WriteConcern | undefined, accessOf: AccessOf): Promise<void> {
  const { done } = await h.writes.begin(ctx.conn, ops, { writeConcern }, { send: ctx.reply }, accessOf);
  if (ctx.pipeline) ctx.pipeline(done);
  else await done;
}
