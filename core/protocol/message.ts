// The TopGun wire protocol's message types: the 77 of v0.12, specified in /work/shared/PROTOCOL.md (§1.3 shapes, §3
// catalogue), and the 3 of TopGun main the edge speaks (QUERY_SYNC_INIT, SQL_QUERY, SQL_QUERY_RESP; PROTOCOL-NEXT.md),
// and the edge's own 2 (SCHEMA_GET, SCHEMA_RESP: core/protocol/schemas.ts), grouped by direction. A decoded frame
// becomes a typed message here, and nowhere else.
import * as z from "./zod.ts";
import { ProtocolError } from "../errors.ts";
import { authAckMessageSchema, authFailMessageSchema, authMessageSchema, authRequiredMessageSchema } from "./auth.ts";
import * as cluster from "./cluster.ts";
import { batchMessageSchema, errorMessageSchema, pingMessageSchema, pongMessageSchema } from "./connection.ts";
import * as counters from "./counters.ts";
import * as journal from "./journal.ts";
import * as locks from "./locks.ts";
import { parseHotOps } from "./hot-ops.ts";
import * as ops from "./ops.ts";
import * as partitionMap from "./partition-map.ts";
import * as processors from "./processors.ts";
import * as query from "./query.ts";
import * as schemas from "./schemas.ts";
import * as search from "./search.ts";
import * as sql from "./sql.ts";
import * as sync from "./sync.ts";
import * as topics from "./topics.ts";

/** Every type a client may send. */
export const clientMessageSchema = z.discriminatedUnion("type", [
  authMessageSchema,
  pingMessageSchema,
  batchMessageSchema,
  ops.clientOpMessageSchema,
  ops.opBatchMessageSchema,
  sync.syncInitMessageSchema,
  sync.merkleReqBucketMessageSchema,
  sync.orMapSyncInitMessageSchema,
  sync.orMapMerkleReqBucketMessageSchema,
  sync.orMapDiffRequestMessageSchema,
  sync.orMapPushDiffMessageSchema,
  query.querySubMessageSchema,
  query.queryUnsubMessageSchema,
  query.querySyncInitMessageSchema,
  sql.sqlQueryMessageSchema,
  schemas.schemaGetMessageSchema,
  search.searchMessageSchema,
  search.searchSubMessageSchema,
  search.searchUnsubMessageSchema,
  partitionMap.partitionMapRequestMessageSchema,
  topics.topicSubMessageSchema,
  topics.topicUnsubMessageSchema,
  topics.topicPubMessageSchema,
  locks.lockRequestMessageSchema,
  locks.lockReleaseMessageSchema,
  counters.counterRequestMessageSchema,
  counters.counterSyncMessageSchema,
  processors.entryProcessMessageSchema,
  processors.entryProcessBatchMessageSchema,
  journal.journalSubscribeMessageSchema,
  journal.journalUnsubscribeMessageSchema,
  journal.journalReadMessageSchema,
  processors.registerResolverMessageSchema,
  processors.unregisterResolverMessageSchema,
  processors.listResolversMessageSchema,
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type ClientMessageType = ClientMessage["type"];

/** Every type a server may send (BATCH goes both ways). */
export const serverMessageSchema = z.discriminatedUnion("type", [
  authRequiredMessageSchema,
  authAckMessageSchema,
  authFailMessageSchema,
  errorMessageSchema,
  pongMessageSchema,
  batchMessageSchema,
  ops.opAckMessageSchema,
  ops.opRejectedMessageSchema,
  ops.serverEventMessageSchema,
  ops.serverBatchEventMessageSchema,
  sync.syncRespRootMessageSchema,
  sync.syncRespBucketsMessageSchema,
  sync.syncRespLeafMessageSchema,
  sync.syncResetRequiredMessageSchema,
  sync.gcPruneMessageSchema,
  sync.orMapSyncRespRootMessageSchema,
  sync.orMapSyncRespBucketsMessageSchema,
  sync.orMapSyncRespLeafMessageSchema,
  sync.orMapDiffResponseMessageSchema,
  query.queryRespMessageSchema,
  query.queryUpdateMessageSchema,
  sql.sqlQueryRespMessageSchema,
  schemas.schemaRespMessageSchema,
  search.searchRespMessageSchema,
  search.searchUpdateMessageSchema,
  partitionMap.partitionMapMessageSchema,
  topics.topicMessageMessageSchema,
  locks.lockGrantedMessageSchema,
  locks.lockReleasedMessageSchema,
  counters.counterResponseMessageSchema,
  counters.counterUpdateMessageSchema,
  processors.entryProcessResponseMessageSchema,
  processors.entryProcessBatchResponseMessageSchema,
  processors.registerResolverResponseMessageSchema,
  processors.unregisterResolverResponseMessageSchema,
  processors.listResolversResponseMessageSchema,
  processors.mergeRejectedMessageSchema,
  journal.journalEventMessageSchema,
  journal.journalReadResponseMessageSchema,
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;
export type ServerMessageType = ServerMessage["type"];

/** The node-to-node types; the edge only recognises them. */
export const clusterMessageSchema = z.discriminatedUnion("type", [
  cluster.clusterSubRegisterMessageSchema,
  cluster.clusterSubAckMessageSchema,
  cluster.clusterSubUpdateMessageSchema,
  cluster.clusterSubUnregisterMessageSchema,
  cluster.clusterSearchReqMessageSchema,
  cluster.clusterSearchRespMessageSchema,
  cluster.clusterSearchSubscribeMessageSchema,
  cluster.clusterSearchUnsubscribeMessageSchema,
  cluster.clusterSearchUpdateMessageSchema,
]);
export type ClusterMessage = z.infer<typeof clusterMessageSchema>;
export type ClusterMessageType = ClusterMessage["type"];

export const CLIENT_MESSAGE_TYPES: ReadonlySet<string> = typesOf(clientMessageSchema.def.options);
export const SERVER_MESSAGE_TYPES: ReadonlySet<string> = typesOf(serverMessageSchema.def.options);
export const CLUSTER_MESSAGE_TYPES: ReadonlySet<string> = typesOf(clusterMessageSchema.def.options);

function typesOf(options: readonly { shape: { type: z.ZodMiniLiteral<string> } }[]): ReadonlySet<string> {
  return new Set(options.flatMap((o) => o.shape.type.def.values));
}

/**
 * The outcome of parsing one decoded frame: a typed message, an error to report, or a known type that
 * the receiver ignores (a server type sent by a client, for example; PROTOCOL.md §1.8).
 */
export type ParseResult<M> =
  | { ok: true; message: M }
  | { ok: false; error: ProtocolError }
  | { ok: false; ignore: true; type: string };

/** Validates a decoded client→server message; OP_BATCH and CLIENT_OP of the plain shape skip zod (hot-ops.ts). */
export function parseClientMessage(raw: unknown): ParseResult<ClientMessage> {
  if (isMessageObject(raw) && (raw.type === "OP_BATCH" || raw.type === "CLIENT_OP")) {
    const hot = parseHotOps(raw);
    if (hot) return { ok: true, message: hot };
  }
  return parseMessage(raw, clientMessageSchema, CLIENT_MESSAGE_TYPES);
}

function isMessageObject(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === "object" && raw !== null && !Array.isArray(raw);
}

/** Validates a decoded server→client message (for the client SDK). */
export function parseServerMessage(raw: unknown): ParseResult<ServerMessage> {
  return parseMessage(raw, serverMessageSchema, SERVER_MESSAGE_TYPES);
}

const MAX_ERROR_MESSAGE_LENGTH = 200;

function parseMessage<M>(raw: unknown, schema: z.ZodMiniType<M>, accepted: ReadonlySet<string>): ParseResult<M> {
  const type = messageTypeOf(raw);
  if (type === undefined) return failure("INVALID_MESSAGE", "a message must be a map with a string `type`");
  if (!accepted.has(type)) {
    if (isKnownType(type)) return { ok: false, ignore: true, type };
    return failure("UNKNOWN_TYPE", `unknown message type ${JSON.stringify(type.slice(0, 64))}`);
  }
  let result: z.util.SafeParseResult<M>;
  try {
    result = schema.safeParse(raw);
  } catch (err) {
    // A deeply nested value exhausts the stack inside the schema; that is the sender's fault, not ours.
    if (err instanceof RangeError) return failure("INVALID_MESSAGE", `invalid ${type}: nested too deeply`);
    throw err;
  }
  if (result.success) return { ok: true, message: result.data };
  const issue = result.error.issues[0];
  if (issue === undefined) return failure("INVALID_MESSAGE", `invalid ${type}`);
  const path = issue.path.length > 0 ? issue.path.map(String).join(".") : "(message)";
  return failure(isOverLimit(issue) ? "TOO_LARGE" : "INVALID_MESSAGE", `invalid ${type} at ${path}: ${issue.message}`);
}

function messageTypeOf(raw: unknown): string | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw) || !("type" in raw)) return undefined;
  return typeof raw.type === "string" ? raw.type : undefined;
}

function isKnownType(type: string): boolean {
  return CLIENT_MESSAGE_TYPES.has(type) || SERVER_MESSAGE_TYPES.has(type) || CLUSTER_MESSAGE_TYPES.has(type);
}

/** A list or string over its limit is TOO_LARGE; a number out of range is just invalid. */
function isOverLimit(issue: z.core.$ZodIssue): boolean {
  return issue.code === "too_big" && (issue.origin === "array" || issue.origin === "string" || issue.origin === "set");
}

function failure(kind: "INVALID_MESSAGE" | "UNKNOWN_TYPE" | "TOO_LARGE", message: string): ParseResult<never> {
  return { ok: false, error: new ProtocolError(kind, message.slice(0, MAX_ERROR_MESSAGE_LENGTH)) };
}
