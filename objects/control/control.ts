import { DurableObject } from "cloudflare:workers";
import type { AccessPolicy, PolicySnapshot } from "../../core/access-policy.ts";
import { durableObjectSqlPort } from "../storage/do-sql-port.ts";
import { PolicyStore } from "./policy-store.ts";
import { MapDirectory, type DirectoryEntry } from "./map-directory.ts";
import type { JsonSchema, MapSchema, SchemaChanges } from "../../core/map-schema.ts";
import { SchemaStore } from "./schema-store.ts";

/**
 * The control plane of one namespace (`<namespace>/control`): facts that change rarely and are read on every op
 * (access policies, map schemas, the directory of maps). A thin shell over its stores; partitions read a cached copy (objects/access/).
 */
export class Control extends DurableObject {
  #policies: PolicyStore | undefined;
  #maps: MapDirectory | undefined;
  #schemas: SchemaStore | undefined;

  policySnapshot(): PolicySnapshot {
    return this.#store().snapshot();
  }
  listPolicies(): AccessPolicy[] {
    return this.#store().list();
  }
  getPolicy(id: string): AccessPolicy | undefined {
    return this.#store().get(id);
  }
  /** Whether the namespace may store `id` (replacing one, or a new one within `limit`). */
  canStorePolicy(id: string, limit: number): boolean {
    const store = this.#store();
    return store.get(id) !== undefined || store.list().length < limit;
  }
  putPolicy(policy: AccessPolicy): AccessPolicy {
    this.#store().put(policy);
    return policy;
  }
  deletePolicy(id: string): boolean {
    return this.#store().delete(id);
  }

  /** The namespace's map schemas, unless the caller already holds version `known` (partitions' cached copy). */
  schemaChanges(known?: number): SchemaChanges {
    return this.#schemaStore().changesSince(known);
  }
  listSchemas(): MapSchema[] {
    return this.#schemaStore().list();
  }
  getSchema(map: string): MapSchema | undefined {
    return this.#schemaStore().get(map);
  }
  /** Stores the map's schema (checked by the caller), unless that would pass `limit` maps with a schema (undefined). */
  putSchema(map: string, schema: JsonSchema, limit: number): MapSchema | undefined {
    const store = this.#schemaStore();
    if (store.get(map) === undefined && store.count() >= limit) return undefined;
    return store.put(map, schema);
  }
  deleteSchema(map: string): boolean {
    return this.#schemaStore().delete(map);
  }

  /** An owner reports maps it holds (once each; see objects/directory/known-maps.ts). */
  reportMaps(request: { partition: number; maps: string[] }): void {
    this.#directory().report(request.partition, request.maps);
  }
  listMaps(): DirectoryEntry[] {
    return this.#directory().list();
  }

  #directory(): MapDirectory {
    this.#maps ??= new MapDirectory(durableObjectSqlPort(this.ctx.storage));
    return this.#maps;
  }

  #schemaStore(): SchemaStore {
    this.#schemas ??= new SchemaStore(durableObjectSqlPort(this.ctx.storage));
    return this.#schemas;
  }

  #store(): PolicyStore {
    this.#policies ??= new PolicyStore(durableObjectSqlPort(this.ctx.storage));
    return this.#policies;
  }
}

/** The object name of a namespace's control object. */
export function controlObjectName(namespace: string): string {
  return `${namespace}/control`;
}

/** The control object of a namespace as callers see it (RPC types of `unknown`-valued policies and schemas, spelled out). */
export interface ControlApi {
  policySnapshot(): Promise<PolicySnapshot>;
  listPolicies(): Promise<AccessPolicy[]>;
  getPolicy(id: string): Promise<AccessPolicy | undefined>;
  canStorePolicy(id: string, limit: number): Promise<boolean>;
  putPolicy(policy: AccessPolicy): Promise<AccessPolicy>;
  deletePolicy(id: string): Promise<boolean>;
  schemaChanges(known?: number): Promise<SchemaChanges>;
  listSchemas(): Promise<MapSchema[]>;
  getSchema(map: string): Promise<MapSchema | undefined>;
  putSchema(map: string, schema: JsonSchema, limit: number): Promise<MapSchema | undefined>;
  deleteSchema(map: string): Promise<boolean>;
  reportMaps(request: { partition: number; maps: string[] }): Promise<void>;
  listMaps(): Promise<DirectoryEntry[]>;
}

/** The control object of `namespace` in the CONTROL binding. */
export function controlApi(binding: DurableObjectNamespace<Control>, namespace: string): ControlApi {
  const stub = binding.get(binding.idFromName(controlObjectName(namespace)));
  return {
    policySnapshot: () => stub.policySnapshot(),
    listPolicies: () => stub.listPolicies(),
    getPolicy: (id) => stub.getPolicy(id),
    canStorePolicy: (id, limit) => stub.canStorePolicy(id, limit),
    putPolicy: (policy) => stub.putPolicy(policy),
    deletePolicy: (id) => stub.deletePolicy(id),
    schemaChanges: (known) => stub.schemaChanges(known),
    listSchemas: () => stub.listSchemas(),
    getSchema: (map) => stub.getSchema(map),
    putSchema: (map, schema, limit) => stub.putSchema(map, schema, limit),
    deleteSchema: (map) => stub.deleteSchema(map),
    reportMaps: (request) => stub.reportMaps(request),
    listMaps: () => stub.listMaps(),
  };
}
