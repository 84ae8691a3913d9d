import { decodeMsgpack as decodeMessage, encodeMsgpack as encodeMessage } from "../wire/msgpack.ts";
import type { Timestamp } from "../../core/hlc.ts";
import type { HttpSyncRequest, HttpSyncResponse } from "../../core/protocol/http-sync.ts";
import type { JournalEventData, PNCounterState, Query } from "../../core/protocol/shared.ts";

/** How a server-side caller reaches a TopGun Edge deployment over HTTP. */
export interface TopGunHttpOptions {
  /** The deployment, e.g. `https://edge.example.com`. */
  baseUrl: string;
  /** A bearer JWT (or a function that returns a fresh one for each request); none in no-auth mode. */
  token?: string | (() => string | Promise<string>);
  /** The tenant (`?namespace=`); the server's default namespace when absent. */
  namespace?: string;
  /** The fetch to use (a Worker's, a test's); the global one by default. */
  fetch?: typeof fetch;
}

/** A `/v1` or `/sync` call the server refused: the HTTP status and the server's error code and message. */
export class TopGunHttpError extends Error {
  override readonly name = "TopGunHttpError";
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface StoredRecord<V> {
  key: string;
  value: V;
  timestamp: Timestamp;
}

export interface RecordPage<V> {
  records: { key: string; value: V }[];
  hasMore: boolean;
  nextCursor?: string;
}

export type BatchWrite = { map: string; key: string; value: unknown } | { map: string; key: string; delete: true };
export type BatchResult = { ok: true } | { ok: false; error: { code: string; message: string } };

export interface CounterValue {
  name: string;
  value: number;
  state: PNCounterState;
}

/**
 * A small typed client of TopGun Edge's HTTP plane (`/v1` and `POST /sync`) for backend jobs, webhooks and Workers.
 * Every method is one request; a refusal throws TopGunHttpError. Reads and writes run under the caller's access
 * policies, and writes reach WebSocket clients live. Answers are the server's JSON as its OpenAPI document
 * (`/v1/openapi.json`) describes it; they are not validated again here.
 */
export class TopGunHttp {
  readonly #options: TopGunHttpOptions;
  readonly #fetch: typeof fetch;

  constructor(options: TopGunHttpOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** One record, or undefined when it does not exist (or the caller may not see it). */
  async get<V = unknown>(map: string, key: string): Promise<StoredRecord<V> | undefined> {
    try {
      return await this.#json<StoredRecord<V>>("GET", recordPath(map, key));
    } catch (err) {
      if (err instanceof TopGunHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** The map's JSON Schema `{map, version, schema}` (needs read access to the map), or undefined when it has none. */
  async schema(map: string): Promise<{ map: string; version: number; schema: unknown } | undefined> {
    try {
      return await this.#json<{ map: string; version: number; schema: unknown }>("GET", `/v1/maps/${encodeURIComponent(map)}/schema`);
    } catch (err) {
      if (err instanceof TopGunHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Writes one record, stamped by the server's clock; answers the record as written. */
  put<V>(map: string, key: string, value: V): Promise<StoredRecord<V>> {
    return this.#json("PUT", recordPath(map, key), { value });
  }

  /** Deletes one record (a tombstone that syncs to every client). */
  async delete(map: string, key: string): Promise<void> {
    await this.#json("DELETE", recordPath(map, key));
  }

  /** A page of a map's records: `where`/`predicate` filter, `sort`, `limit`, `cursor` (a previous page's nextCursor). */
  query<V = unknown>(map: string, query: Query = {}): Promise<RecordPage<V>> {
    return this.#json("POST", `/v1/maps/${encodeURIComponent(map)}/query`, query);
  }

  /** Puts and deletes in one request (at most 2,000); one result per write, in order. */
  async batch(ops: readonly BatchWrite[]): Promise<BatchResult[]> {
    return (await this.#json<{ results: BatchResult[] }>("POST", "/v1/batch", { ops })).results;
  }

  /** An OR-Map key's values with their tags. */
  async orValues<V = unknown>(map: string, key: string): Promise<{ value: V; tag: string }[]> {
    return (await this.#json<{ values: { value: V; tag: string }[] }>("GET", orPath(map, key))).values;
  }

  /** Adds a value to an OR-Map key; answers its tag. */
  async orAdd(map: string, key: string, value: unknown): Promise<string> {
    return (await this.#json<{ tag: string }>("POST", orPath(map, key), { value })).tag;
  }

  /** Removes a value (every tag holding it) or one tag from an OR-Map key; answers the removed tags. */
  async orRemove(map: string, key: string, what: { value: unknown } | { tag: string }): Promise<string[]> {
    return (await this.#json<{ removed: string[] }>("POST", `${orPath(map, key)}/remove`, what)).removed;
  }

  /** Publishes a message to a topic's subscribers. */
  async publish(topic: string, data: unknown): Promise<void> {
    await this.#json("POST", `/v1/topics/${encodeURIComponent(topic)}/publish`, { data });
  }

  counter(name: string): Promise<CounterValue> {
    return this.#json("GET", counterPath(name));
  }

  /** Adds `delta` (negative subtracts) to a PN counter; answers the counter after the change. */
  addToCounter(name: string, delta: number): Promise<CounterValue> {
    return this.#json("POST", counterPath(name), { delta });
  }

  /** Runs a built-in entry processor (`increment`, `append`, `merge`, `setIfAbsent`, `compareAndSet`, `delete`). */
  process(map: string, key: string, processor: string, args?: unknown): Promise<{ result: unknown; newValue: unknown }> {
    return this.#json("POST", `${recordPath(map, key)}/process`, args === undefined ? { processor } : { processor, args });
  }

  /** Journal events from `from` (a sequence, inclusive) on, optionally of one map. */
  journal(options: { from?: string; limit?: number; map?: string } = {}): Promise<{ events: JournalEventData[]; hasMore: boolean }> {
    const params = new URLSearchParams();
    if (options.from !== undefined) params.set("from", options.from);
    if (options.limit !== undefined) params.set("limit", String(options.limit));
    if (options.map !== undefined) params.set("map", options.map);
    const query = params.toString();
    return this.#json("GET", `/v1/journal${query === "" ? "" : `?${query}`}`);
  }

  /** TopGun's `POST /sync` (msgpack): operations, deltas since a timestamp, one-shot queries and searches. */
  async sync(request: HttpSyncRequest): Promise<HttpSyncResponse> {
    const encoded = encodeMessage(request);
    const body = new Uint8Array(new ArrayBuffer(encoded.byteLength)); // a body owns a plain ArrayBuffer
    body.set(encoded);
    const response = await this.#send("POST", "/sync", body, "application/msgpack");
    if (!response.ok) {
      const text = await response.text();
      throw new TopGunHttpError(response.status, String(response.status), messageOf(parseJson(text)) ?? response.statusText);
    }
    return decodeMessage(new Uint8Array(await response.arrayBuffer())) as HttpSyncResponse;
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.#send(method, path, body === undefined ? undefined : JSON.stringify(body), "application/json");
    const parsed = parseJson(await response.text());
    if (!response.ok) {
      const error = isErrorBody(parsed) ? parsed.error : { code: String(response.status), message: response.statusText };
      throw new TopGunHttpError(response.status, error.code, error.message);
    }
    return parsed as T;
  }

  async #send(method: string, path: string, body: string | Uint8Array<ArrayBuffer> | undefined, contentType: string): Promise<Response> {
    const url = new URL(path, this.#options.baseUrl);
    if (this.#options.namespace !== undefined) url.searchParams.set("namespace", this.#options.namespace);
    const headers: Record<string, string> = {};
    const token = typeof this.#options.token === "function" ? await this.#options.token() : this.#options.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = contentType;
    return this.#fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
  }
}

const recordPath = (map: string, key: string) => `/v1/maps/${encodeURIComponent(map)}/records/${encodeURIComponent(key)}`;
const orPath = (map: string, key: string) => `/v1/ormaps/${encodeURIComponent(map)}/records/${encodeURIComponent(key)}`;
const counterPath = (name: string) => `/v1/counters/${encodeURIComponent(name)}`;

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isErrorBody(value: unknown): value is { error: { code: string; message: string } } {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const error: unknown = value.error;
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" && "message" in error && typeof error.message === "string";
}

function messageOf(value: unknown): string | undefined {
  return typeof value === "object" && value !== null && "message" in value && typeof value.message === "string" ? value.message : undefined;
}
