import type { HLC } from "../../core/hlc.ts";
import { timestampToString } from "../../core/hlc.ts";
import type { Principal } from "../../core/principal.ts";
import type { ClientMessage } from "../../core/protocol/message.ts";
import type { ClientOp, ORMapEntry, PNCounterState } from "../../core/protocol/shared.ts";
import type { Exchange, HttpGateway } from "./http-gateway.ts";
import type { BatchOp, HttpCall, HttpOutcome } from "./http-call.ts";
import { repliesOf, replyOf } from "./replies.ts";
import { httpErrorCode } from "../../core/http-error-code.ts";
import { permits } from "../../core/access-policy.ts";
import { isExpired } from "../../core/lww-map.ts";
import { partitionOf, placedAgainIfStale, shardCountOf, type ShardConfig } from "../../core/placement.ts";
import type { AccessGuard } from "../access/access-guard.ts";
import type { RecordOwner } from "./record-owner.ts";

/** The node id HTTP callers' counter changes are counted under (every change of a counter runs at one home). */
export const HTTP_COUNTER_NODE = "edge-http";

/** The outcome of each op of a written batch, in order. */
interface OpOutcome {
  ok: boolean;
  status: number;
  message?: string;
}

/**
 * `/v1` at the home: each call becomes protocol messages run through the gateway (so the same access checks, write
 * path and queries as a socket), writes stamped with this home's HLC; the replies become a status and a JSON body.
 */
export class HttpApi {
  readonly #gateway: HttpGateway;
  readonly #hlc: HLC;
  /** Counter changes in flight per counter: a read-add-write of the HTTP node's count must not interleave. */
  readonly #counterTails = new Map<string, Promise<unknown>>();

  readonly #access: AccessGuard;
  readonly #owners: (partition: number) => RecordOwner;
  readonly #shards: () => ShardConfig;
  readonly #refreshShards: () => Promise<void>;

  /** `refreshShards` asks the control object for the shard counts again (after an owner refused a stale placement). */
  constructor(deps: {
    gateway: HttpGateway;
    hlc: HLC;
    access: AccessGuard;
    owners: (partition: number) => RecordOwner;
    shards: () => ShardConfig;
    refreshShards?: () => Promise<void>;
  }) {
    this.#gateway = deps.gateway;
    this.#hlc = deps.hlc;
    this.#access = deps.access;
    this.#owners = deps.owners;
    this.#shards = deps.shards;
    this.#refreshShards = deps.refreshShards ?? (() => Promise.resolve());
  }

  async call(principal: Principal, call: HttpCall): Promise<HttpOutcome> {
    switch (call.kind) {
      case "get":
        return this.#get(principal, call.map, call.key);
      case "put": {
        const timestamp = this.#hlc.now();
        const [outcome] = await this.#write(principal, [{ id: "0", mapName: call.map, key: call.key, opType: "PUT", record: { value: call.value, timestamp } }]);
        return outcome?.ok ? { ok: true, status: 200, body: { key: call.key, value: call.value, timestamp } } : failed(outcome);
      }
      case "remove": {
        const [outcome] = await this.#write(principal, [{ id: "0", mapName: call.map, key: call.key, opType: "REMOVE", record: { value: null, timestamp: this.#hlc.now() } }]);
        return outcome?.ok ? { ok: true, status: 204 } : failed(outcome);
      }
      case "batch": {
        const outcomes = await this.#write(principal, call.ops.map((op, index) => this.#batchOp(op, index)));
        if (outcomes.length === 0) return { ok: true, status: 200, body: { results: [] } };
        const whole = outcomes.find((o) => !o.ok && (o.status >= 500 || o.status === 429));
        if (whole) return failed(whole);
        return { ok: true, status: 200, body: { results: outcomes.map((o) => (o.ok ? { ok: true } : { ok: false, error: { code: httpErrorCode(o.status), message: o.message ?? "rejected" } })) } };
      }
      case "list": {
        const answer = await this.#one(principal, { type: "QUERY_SUB", payload: { queryId: "list", mapName: call.map, query: call.query } });
        const resp = replyOf(answer, "QUERY_RESP");
        if (!resp) return failure(answer);
        const { results, nextCursor, hasMore } = resp.payload;
        return { ok: true, status: 200, body: { records: results, ...(nextCursor === undefined ? {} : { nextCursor }), hasMore: hasMore ?? false } };
      }
      case "orGet": {
        const entry = await this.#orEntry(principal, call.map, call.key);
        if ("ok" in entry) return entry;
        return { ok: true, status: 200, body: { key: call.key, values: liveRecords(entry).map((r) => ({ value: r.value, tag: r.tag })) } };
      }
      case "orAdd": {
        const timestamp = this.#hlc.now();
        const tag = timestampToString(timestamp);
        const [outcome] = await this.#write(principal, [{ id: "0", mapName: call.map, key: call.key, opType: "OR_ADD", orRecord: { value: call.value, timestamp, tag } }]);
        return outcome?.ok ? { ok: true, status: 201, body: { key: call.key, value: call.value, tag } } : failed(outcome);
      }
      case "orRemove":
        return this.#orRemove(principal, call);
      case "publish": {
        const answer = await this.#one(principal, { type: "TOPIC_PUB", payload: { topic: call.topic, data: call.data } });
        return answer.error ? failure(answer) : { ok: true, status: 204 };
      }
      case "counterGet": {
        const answer = await this.#one(principal, { type: "COUNTER_REQUEST", payload: { name: call.name } });
        const resp = replyOf(answer, "COUNTER_RESPONSE");
        return resp ? { ok: true, status: 200, body: counterBody(call.name, resp.payload.state) } : failure(answer);
      }
      case "counterAdd":
        return this.#serially(call.name, () => this.#counterAdd(principal, call.name, call.delta));
      case "process": {
        const answer = await this.#one(principal, { type: "ENTRY_PROCESS", requestId: "process", mapName: call.map, key: call.key, processor: call.processor });
        const resp = replyOf(answer, "ENTRY_PROCESS_RESPONSE");
        if (!resp) return failure(answer);
        if (!resp.success) return { ok: false, status: 400, message: resp.error ?? "the processor failed" };
        return { ok: true, status: 200, body: { result: resp.result ?? null, newValue: resp.newValue ?? null } };
      }
      case "journal": {
        const answer = await this.#one(principal, {
          type: "JOURNAL_READ",
          requestId: "journal",
          fromSequence: call.fromSequence,
          ...(call.limit === undefined ? {} : { limit: call.limit }),
          ...(call.map === undefined ? {} : { mapName: call.map }),
        });
        const resp = replyOf(answer, "JOURNAL_READ_RESPONSE");
        return resp ? { ok: true, status: 200, body: { events: resp.events, hasMore: resp.hasMore } } : failure(answer);
      }
      case "schema": {
        const answer = await this.#one(principal, { type: "SCHEMA_GET", payload: { requestId: "schema", mapName: call.map } });
        const resp = replyOf(answer, "SCHEMA_RESP");
        if (!resp) return failure(answer);
        const { version, schema, error, code } = resp.payload;
        if (error !== undefined) return { ok: false, status: code ?? 500, message: error };
        if (schema === undefined) return { ok: false, status: 404, message: `map ${call.map} has no schema` };
        return { ok: true, status: 200, body: { map: call.map, version, schema } };
      }
      case "sql": {
        const answer = await this.#one(principal, { type: "SQL_QUERY", payload: { sql: call.sql, queryId: "sql" } });
        const resp = replyOf(answer, "SQL_QUERY_RESP");
        if (!resp) return failure(answer);
        if (resp.payload.error !== undefined) return { ok: false, status: sqlStatusOf(resp.payload.code), message: resp.payload.error };
        return { ok: true, status: 200, body: { columns: resp.payload.columns, rows: resp.payload.rows } };
      }
    }
  }

  /**
   * One record, read at its owner and shown only when the caller's read access covers it (a record condition is
   * evaluated on the stored value, as a query's would be). A tombstone or a record the caller may not see is 404.
   */
  async #get(principal: Principal, map: string, key: string): Promise<HttpOutcome> {
    const access = (await this.#access.forPrincipal(principal))({ action: "read", resource: map });
    if (access.kind === "none") return { ok: false, status: 403, message: `forbidden: read access denied for map: ${map}` };
    const [found] = await placedAgainIfStale(this.#refreshShards, () =>
      this.#owners(partitionOf(this.#shards(), map, key)).readRecords({ map, keys: [key], shards: shardCountOf(this.#shards(), map) }),
    );
    const value = found?.record.value;
    // A record whose TTL ran out is gone for readers at once (the alarm deletes it soon after).
    const expired = found !== undefined && isExpired(found.record, Date.now());
    if (value === undefined || value === null || expired || !permits(access, value, key)) return { ok: false, status: 404, message: `no record ${key} in ${map}` };
    return { ok: true, status: 200, body: { key, value, timestamp: found?.record.timestamp } };
  }

  async #one(principal: Principal, message: ClientMessage): Promise<Exchange> {
    const [answer] = await this.#gateway.exchange(principal, [message]);
    return answer ?? { replies: [], error: { code: 500, message: "no answer" } };
  }

  #batchOp(op: BatchOp, index: number): ClientOp {
    const timestamp = this.#hlc.now();
    return "delete" in op
      ? { id: String(index), mapName: op.map, key: op.key, opType: "REMOVE", record: { value: null, timestamp } }
      : { id: String(index), mapName: op.map, key: op.key, opType: "PUT", record: { value: op.value, timestamp } };
  }

  /** Writes ops as one OP_BATCH; the outcome of each, from OP_REJECTED and the OP_ACK's results. */
  async #write(principal: Principal, ops: ClientOp[]): Promise<OpOutcome[]> {
    if (ops.length === 0) return [];
    const answer = await this.#one(principal, { type: "OP_BATCH", payload: { ops, writeConcern: "APPLIED" } });
    const ack = replyOf(answer, "OP_ACK");
    if (!ack) {
      const error = answer.error ?? repliesOf(answer, "ERROR").find((e) => e.payload.code !== 403)?.payload ?? { code: 500, message: "no answer" };
      return ops.map(() => ({ ok: false, status: error.code, message: error.message }));
    }
    const rejected = new Map(repliesOf(answer, "OP_REJECTED").map((r) => [r.payload.opId, r.payload]));
    return ops.map((op) => {
      const r = rejected.get(op.id ?? "");
      return r ? { ok: false, status: statusOf(r.code ?? 400), message: r.reason } : { ok: true, status: 200 };
    });
  }

  async #orEntry(principal: Principal, map: string, key: string): Promise<ORMapEntry | HttpOutcome> {
    const answer = await this.#one(principal, { type: "ORMAP_DIFF_REQUEST", payload: { mapName: map, keys: [key] } });
    const resp = replyOf(answer, "ORMAP_DIFF_RESPONSE");
    if (!resp) return failure(answer);
    return resp.payload.entries.find((e) => e.key === key) ?? { key, records: [], tombstones: [] };
  }

  /** Removes one tag, or every tag whose value equals `value` (as the client's `remove(key, value)` does). */
  async #orRemove(principal: Principal, call: Extract<HttpCall, { kind: "orRemove" }>): Promise<HttpOutcome> {
    let tags: string[];
    if (call.tag !== undefined) tags = [call.tag];
    else {
      const entry = await this.#orEntry(principal, call.map, call.key);
      if ("ok" in entry) return entry;
      const wanted = JSON.stringify(call.value);
      tags = liveRecords(entry).filter((r) => JSON.stringify(r.value) === wanted).map((r) => r.tag);
    }
    if (tags.length === 0) return { ok: true, status: 200, body: { removed: [] } };
    const outcomes = await this.#write(principal, tags.map((tag, index) => ({ id: String(index), mapName: call.map, key: call.key, opType: "OR_REMOVE", orTag: tag })));
    const failedOne = outcomes.find((o) => !o.ok);
    return failedOne ? failed(failedOne) : { ok: true, status: 200, body: { removed: tags } };
  }

  async #counterAdd(principal: Principal, name: string, delta: number): Promise<HttpOutcome> {
    const read = await this.#one(principal, { type: "COUNTER_REQUEST", payload: { name } });
    const current = replyOf(read, "COUNTER_RESPONSE");
    if (!current) return failure(read);
    const { p, n } = current.payload.state;
    const side = delta >= 0 ? "p" : "n";
    const next: PNCounterState = { p: { ...p }, n: { ...n } };
    next[side][HTTP_COUNTER_NODE] = (next[side][HTTP_COUNTER_NODE] ?? 0) + Math.abs(delta);
    const write = await this.#one(principal, { type: "COUNTER_SYNC", payload: { name, state: next } });
    const merged = replyOf(write, "COUNTER_UPDATE");
    return merged ? { ok: true, status: 200, body: counterBody(name, merged.payload.state) } : failure(write);
  }

  #serially(name: string, task: () => Promise<HttpOutcome>): Promise<HttpOutcome> {
    const previous = this.#counterTails.get(name) ?? Promise.resolve();
    const next = previous.then(task, task);
    this.#counterTails.set(name, next);
    void next.finally(() => {
      if (this.#counterTails.get(name) === next) this.#counterTails.delete(name);
    });
    return next;
  }
}

/** The records of an entry that are not tombstoned and whose TTL has not run out. */
function liveRecords(entry: ORMapEntry): ORMapEntry["records"] {
  const removed = new Set(entry.tombstones);
  const now = Date.now();
  return entry.records.filter((r) => !removed.has(r.tag) && !isExpired(r, now));
}

function counterBody(name: string, state: PNCounterState): { name: string; value: number; state: PNCounterState } {
  const sum = (side: Record<string, number>) => Object.values(side).reduce((a, b) => a + b, 0);
  return { name, value: sum(state.p) - sum(state.n), state: { p: state.p, n: state.n } };
}

/** A protocol code as an HTTP status: an invalid message is a bad request. */
function statusOf(code: number): number {
  return code === 422 ? 400 : code;
}

/** The HTTP status of a refused SQL_QUERY, by its reply's `code`. */
function sqlStatusOf(code: string | undefined): number {
  switch (code) {
    case "FORBIDDEN":
      return 403;
    case "TOO_LARGE":
      return 413;
    case "FEATURE_DISABLED":
      return 501;
    default:
      return 400; // SYNTAX_ERROR, UNSUPPORTED and any other refusal of the text itself
  }
}

function failure(answer: Exchange): HttpOutcome {
  const error = answer.error ?? repliesOf(answer, "ERROR")[0]?.payload ?? { code: 500, message: "no answer" };
  return { ok: false, status: statusOf(error.code), message: error.message };
}

function failed(outcome: OpOutcome | undefined): HttpOutcome {
  return { ok: false, status: outcome?.status ?? 500, message: outcome?.message ?? "no answer" };
}
