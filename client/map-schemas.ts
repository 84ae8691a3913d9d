import type { CompiledSchema, JsonSchema } from "../core/map-schema.ts";
import type { ClientMessage } from "../core/protocol/message.ts";
import type { SchemaRespPayload } from "../core/protocol/schemas.ts";

/** A local write refused before it was applied: its value breaks the map's JSON Schema (`reason` names path and rule). */
export class SchemaViolationError extends Error {
  readonly mapName: string;
  readonly reason: string;

  constructor(mapName: string, reason: string) {
    super(reason);
    this.name = "SchemaViolationError";
    this.mapName = mapName;
    this.reason = reason;
  }
}

/** A map's schema as the server gave it. */
export interface MapSchemaInfo {
  mapName: string;
  version: number;
  schema: JsonSchema;
}

/** What one map's schema request waits for. */
interface Waiter {
  resolve(info: MapSchemaInfo | undefined): void;
  reject(error: Error): void;
}

/** The validator (core/map-schema.ts with @cfworker/json-schema) is loaded only once some map has a schema. */
let validator: Promise<typeof import("../core/map-schema.ts")> | undefined;
const loadValidator = () => (validator ??= import("../core/map-schema.ts"));

/**
 * The schemas of the maps this client opened: each one stored (metadata `schema:<map>`) so it holds offline,
 * asked of the server (SCHEMA_GET) on every connection, and compiled once per version with the server's own
 * validator, so `set()` / `add()` refuse what the server would refuse, before anything is applied.
 */
export class MapSchemas {
  readonly #send: (message: ClientMessage) => boolean;
  readonly #newId: () => string;
  readonly #load: (key: string) => Promise<unknown>;
  readonly #save: (key: string, value: unknown) => void;
  readonly #compiled = new Map<string, CompiledSchema>();
  readonly #versions = new Map<string, number>();
  readonly #watched = new Set<string>();
  /** Requests by map (one in flight per map), with their request id and who waits. */
  readonly #requests = new Map<string, { requestId: string; sent: boolean; waiters: Waiter[] }>();

  constructor(deps: { send: (message: ClientMessage) => boolean; newId: () => string; load: (key: string) => Promise<unknown>; save: (key: string, value: unknown) => void }) {
    this.#send = deps.send;
    this.#newId = deps.newId;
    this.#load = deps.load;
    this.#save = deps.save;
  }

  /** Follows the map's schema from now on: the stored copy is compiled when this resolves; the server's is asked for. */
  async watch(mapName: string): Promise<void> {
    if (this.#watched.has(mapName)) return;
    this.#watched.add(mapName);
    this.#request(mapName);
    try {
      const stored = await this.#load(schemaKey(mapName));
      // The server's answer may have arrived meanwhile; it is newer than what storage held.
      if (isStoredSchema(stored) && !this.#versions.has(mapName)) await this.#apply(mapName, stored.version, stored.schema);
    } catch {
      // A stored copy that cannot be read or compiled is not enforced; the server's answer replaces it, and the server checks every write anyway.
    }
  }

  /** Asks the server for the map's schema (when connected; else on the next connection) and applies the answer. */
  fetch(mapName: string): Promise<MapSchemaInfo | undefined> {
    this.#watched.add(mapName);
    return new Promise((resolve, reject) => this.#request(mapName, { resolve, reject }));
  }

  /** A new connection authenticated: asks again for every followed map. */
  resume(): void {
    for (const [mapName, request] of this.#requests) {
      if (!request.sent) request.sent = this.#send(schemaGet(request.requestId, mapName));
    }
    for (const mapName of this.#watched) this.#request(mapName);
  }

  /** SCHEMA_RESP: applies the map's schema (or its absence) and settles the request. */
  async receive(payload: SchemaRespPayload): Promise<void> {
    const request = this.#requests.get(payload.mapName);
    if (request?.requestId !== payload.requestId) return;
    this.#requests.delete(payload.mapName);
    if (payload.error !== undefined) {
      // Not allowed to read the map, or the server cannot read its schemas now: the stored copy stays (the server checks anyway).
      for (const waiter of request.waiters) waiter.reject(new Error(payload.error));
      return;
    }
    try {
      const info = await this.#apply(payload.mapName, payload.version, payload.schema);
      this.#save(schemaKey(payload.mapName), info === undefined ? null : { version: info.version, schema: info.schema });
      for (const waiter of request.waiters) waiter.resolve(info);
    } catch (err) {
      for (const waiter of request.waiters) waiter.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Throws SchemaViolationError when `value` breaks the map's schema (nothing is checked before a schema is known). */
  check(mapName: string, value: unknown): void {
    const reason = this.#compiled.get(mapName)?.violation(value);
    if (reason !== undefined) throw new SchemaViolationError(mapName, reason);
  }

  #request(mapName: string, waiter?: Waiter): void {
    let request = this.#requests.get(mapName);
    if (request === undefined) {
      const requestId = this.#newId();
      request = { requestId, sent: this.#send(schemaGet(requestId, mapName)), waiters: [] };
      this.#requests.set(mapName, request);
    }
    if (waiter) request.waiters.push(waiter);
  }

  async #apply(mapName: string, version: number, schema: unknown): Promise<MapSchemaInfo | undefined> {
    if (schema === undefined || schema === null) {
      this.#compiled.delete(mapName);
      this.#versions.set(mapName, 0);
      return undefined;
    }
    const { checkSchema, compileSchema } = await loadValidator();
    const checked = checkSchema(schema);
    if (!checked.ok) throw new Error(`the schema of map ${mapName} is not valid: ${checked.problem}`);
    if (this.#versions.get(mapName) !== version || !this.#compiled.has(mapName)) {
      this.#compiled.set(mapName, compileSchema({ map: mapName, version, schema: checked.schema }));
      this.#versions.set(mapName, version);
    }
    return { mapName, version, schema: checked.schema };
  }
}

function schemaGet(requestId: string, mapName: string): ClientMessage {
  return { type: "SCHEMA_GET", payload: { requestId, mapName } };
}

function schemaKey(mapName: string): string {
  return `schema:${mapName}`;
}

function isStoredSchema(value: unknown): value is { version: number; schema: unknown } {
  return typeof value === "object" && value !== null && "version" in value && typeof value.version === "number" && "schema" in value;
}
