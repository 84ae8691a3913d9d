import { ProtocolError } from "../../core/errors.ts";
import type { Principal } from "../../core/principal.ts";
import type { ClientMessage } from "../../core/protocol/message.ts";
import type { CoordinationCoordinator } from "../coordination/coordination-coordinator.ts";
import type { JournalCoordinator } from "../journal/journal-coordinator.ts";
import type { ProcessorCoordinator } from "../writes/processor-coordinator.ts";
import type { QueryCoordinator } from "../queries/query-coordinator.ts";
import type { SearchCoordinator } from "../search/search-coordinator.ts";
import type { SyncCoordinator } from "../sync/sync-coordinator.ts";
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
  connectionClosed(conn: string): Promise<void>;
}

export interface DispatchContext {
  conn: string;
  /** Who the connection authenticated as (id null when the token named no one). */
  principal: Principal;
  reply: (message: unknown) => void;
}

const RESOLVERS_UNSUPPORTED = "conflict resolvers are not supported on the edge (no sandbox for custom code)";

/** Routes one authenticated message to its handler. AUTH, PING and BATCH are handled by the session itself. */
export async function dispatch(message: ClientMessage, h: Handlers, ctx: DispatchContext): Promise<void> {
  const { conn, reply } = ctx;
  switch (message.type) {
    case "AUTH":
    case "PING":
    case "BATCH":
      return;
    case "CLIENT_OP":
      return h.writes.write(conn, [message.payload], { writeConcern: message.payload.writeConcern ?? undefined }, { send: reply });
    case "OP_BATCH":
      return h.writes.write(conn, message.payload.ops, { writeConcern: message.payload.writeConcern ?? undefined }, { send: reply });
    case "SYNC_INIT":
      return h.sync.init(conn, "lww", message.mapName, reply);
    case "ORMAP_SYNC_INIT":
      return h.sync.init(conn, "or", message.mapName, reply);
    case "MERKLE_REQ_BUCKET":
      return bucket(h, conn, "lww", message.payload, reply);
    case "ORMAP_MERKLE_REQ_BUCKET":
      return bucket(h, conn, "or", message.payload, reply);
    case "ORMAP_DIFF_REQUEST":
      return h.sync.orDiff(message.payload.mapName, message.payload.keys, reply);
    case "ORMAP_PUSH_DIFF":
      return h.sync.pushDiff(conn, message.payload.mapName, message.payload.entries);
    case "PARTITION_MAP_REQUEST":
      return; // The edge routes keys itself: clients stay in single-server mode (PROTOCOL.md Part A 13).
    case "REGISTER_RESOLVER":
      return reply({ type: "REGISTER_RESOLVER_RESPONSE", requestId: message.requestId, success: false, error: RESOLVERS_UNSUPPORTED });
    case "UNREGISTER_RESOLVER":
      return reply({ type: "UNREGISTER_RESOLVER_RESPONSE", requestId: message.requestId, success: false, error: RESOLVERS_UNSUPPORTED });
    case "LIST_RESOLVERS":
      return reply({ type: "LIST_RESOLVERS_RESPONSE", requestId: message.requestId, resolvers: [] });
    case "QUERY_SUB":
      return h.queries.subscribe(conn, message.payload, reply);
    case "QUERY_UNSUB":
      return h.queries.unsubscribe(conn, message.payload.queryId);
    case "TOPIC_SUB":
      return h.coordination.topicSubscribe(conn, message.payload.topic);
    case "TOPIC_UNSUB":
      return h.coordination.topicUnsubscribe(conn, message.payload.topic);
    case "TOPIC_PUB":
      return h.coordination.topicPublish(conn, ctx.principal.id ?? conn, message.payload.topic, message.payload.data);
    case "COUNTER_REQUEST":
      return h.coordination.counterRequest(conn, message.payload.name, reply);
    case "COUNTER_SYNC":
      return h.coordination.counterSync(conn, message.payload.name, message.payload.state, reply);
    case "LOCK_REQUEST":
      return h.coordination.lockRequest(conn, message.payload, reply);
    case "LOCK_RELEASE":
      return h.coordination.lockRelease(conn, message.payload, reply);
    case "SEARCH":
      return h.search.search(message.payload, reply);
    case "SEARCH_SUB":
      return h.search.subscribe(conn, message.payload, reply);
    case "SEARCH_UNSUB":
      return h.search.unsubscribe(conn, message.payload.subscriptionId); // no reply (PROTOCOL.md §3 row 37: see search-coordinator.ts)
    case "ENTRY_PROCESS":
      return h.processors.process(conn, message, reply);
    case "ENTRY_PROCESS_BATCH":
      return h.processors.processBatch(conn, message, reply);
    case "JOURNAL_SUBSCRIBE":
      return h.journal.subscribe(conn, message, reply);
    case "JOURNAL_UNSUBSCRIBE":
      return h.journal.unsubscribe(conn, message.subscriptionId);
    case "JOURNAL_READ":
      return h.journal.read(message, reply);
    default:
      return assertNever(message);
  }
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
