import type { HLC } from "../../core/hlc.ts";
import type { Principal } from "../../core/principal.ts";
import type { HttpSyncError, HttpSyncRequest, HttpSyncResponse } from "../../core/protocol/http-sync.ts";
import type { ClientMessage } from "../../core/protocol/message.ts";
import type { OpResult } from "../../core/protocol/shared.ts";
import type { Exchange, HttpGateway } from "./http-gateway.ts";
import { repliesOf, replyOf } from "./replies.ts";
import type { DeltaReader } from "./sync-deltas.ts";

/** A `/sync` request turned away as a whole (the caller's op budget is spent): the route answers it as HTTP. */
export interface HttpSyncRefusal {
  refused: { code: 429; message: string };
}

/**
 * `POST /sync` (PROTOCOL-NEXT.md §6.1) at the home: `operations` go through the write path as one OP_BATCH,
 * `queries` and `searches` as one-shot QUERY_SUB and SEARCH, `syncMaps` through the delta reader (sync-deltas.ts); the replies become
 * one HttpSyncResponse. Denials and rejections land in `errors` (with the op id, query id or search id as context).
 */
export class HttpSync {
  readonly #gateway: HttpGateway;
  readonly #hlc: HLC;
  readonly #deltas: DeltaReader;

  constructor(deps: { gateway: HttpGateway; hlc: HLC; deltas: DeltaReader }) {
    this.#gateway = deps.gateway;
    this.#hlc = deps.hlc;
    this.#deltas = deps.deltas;
  }

  async sync(principal: Principal, request: HttpSyncRequest): Promise<HttpSyncResponse | HttpSyncRefusal> {
    const errors: HttpSyncError[] = [];
    const response: HttpSyncResponse = { serverHlc: this.#hlc.now() };
    const messages: ClientMessage[] = [];
    const ops = request.operations ?? [];
    // APPLIED asks for results[]: a denied op is reported there as success:false (Edge rule).
    if (ops.length > 0) messages.push({ type: "OP_BATCH", payload: { ops, writeConcern: "APPLIED" } });
    const queries = request.queries ?? [];
    for (const q of queries) {
      const limit = q.limit === undefined ? undefined : q.limit + (q.offset ?? 0);
      const query = { ...(q.filter ? { where: q.filter } : {}), ...(limit === undefined ? {} : { limit }), ...(q.cursor === undefined ? {} : { cursor: q.cursor }) };
      messages.push({ type: "QUERY_SUB", payload: { queryId: q.queryId, mapName: q.mapName, query } });
    }
    const searches = request.searches ?? [];
    for (const s of searches) {
      messages.push({ type: "SEARCH", payload: { requestId: s.searchId, mapName: s.mapName, query: s.query, ...(s.options ? { options: s.options } : {}) } });
    }
    const answers = await this.#gateway.exchange(principal, messages);
    const limited = answers.find((a) => a.error?.code === 429)?.error;
    if (limited) return { refused: { code: 429, message: limited.message } };
    let next = 0;
    if (ops.length > 0) {
      const ack = writeAnswer(answers[next++], errors);
      if (ack) response.ack = ack;
    }
    if (queries.length > 0) {
      response.queryResults = queries.map((q) => {
        const answer = answers[next++];
        const resp = answer && replyOf(answer, "QUERY_RESP");
        if (!resp) {
          errors.push(readError(answer, q.queryId, q.cursor !== undefined));
          return { queryId: q.queryId, results: [] };
        }
        const { results, hasMore, nextCursor } = resp.payload;
        return {
          queryId: q.queryId,
          results: results.slice(q.offset ?? 0).map((entry) => entry.value),
          ...(hasMore === undefined ? {} : { hasMore }),
          ...(nextCursor === undefined ? {} : { nextCursor }),
        };
      });
    }
    if (searches.length > 0) {
      response.searchResults = searches.map((s) => {
        const answer = answers[next++];
        const resp = answer && replyOf(answer, "SEARCH_RESP");
        if (!resp || resp.payload.error !== undefined) {
          errors.push(resp?.payload.error !== undefined ? { code: 400, message: resp.payload.error, context: s.searchId } : readError(answer, s.searchId, false));
          return { searchId: s.searchId, results: [] };
        }
        return { searchId: s.searchId, results: resp.payload.results, totalCount: resp.payload.totalCount };
      });
    }
    if (request.syncMaps && request.syncMaps.length > 0) {
      const deltas = await this.#deltas.read(principal, request.syncMaps);
      response.deltas = deltas.deltas;
      errors.push(...deltas.errors);
    }
    if (errors.length > 0) response.errors = errors;
    return response;
  }
}

/** The ack of a written batch; each denied or rejected op also becomes an error naming its op id. */
function writeAnswer(answer: Exchange | undefined, errors: HttpSyncError[]): HttpSyncResponse["ack"] | undefined {
  if (!answer) return undefined;
  if (answer.error) errors.push({ code: answer.error.code, message: answer.error.message });
  for (const error of repliesOf(answer, "ERROR")) {
    // The batch's denial announcement is repeated per op below; only a failure of the whole write is kept.
    if (error.payload.code !== 403) errors.push({ code: error.payload.code, message: error.payload.message });
  }
  for (const rejected of repliesOf(answer, "OP_REJECTED")) {
    errors.push({ code: rejected.payload.code ?? 400, message: rejected.payload.reason, context: rejected.payload.opId });
  }
  const ack = replyOf(answer, "OP_ACK");
  if (!ack) return undefined;
  const results: OpResult[] | undefined = ack.payload.results ?? undefined;
  return { lastId: ack.payload.lastId, ...(results ? { results } : {}) };
}

/** The error of a read that got no answer: a denial is "access denied", a refused cursor "invalid or expired cursor". */
function readError(answer: Exchange | undefined, context: string, hadCursor: boolean): HttpSyncError {
  const error = answer?.error;
  if (!error) return { code: 500, message: "no answer", context };
  if (error.code === 403) return { code: 403, message: "access denied", context };
  if (hadCursor && error.code === 422) return { code: 400, message: "invalid or expired cursor", context };
  return { code: error.code, message: error.message, context };
}
