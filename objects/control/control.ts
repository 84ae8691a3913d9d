import { DurableObject } from "cloudflare:workers";
import type { AccessPolicy, PolicySnapshot } from "../../core/access-policy.ts";
import { durableObjectSqlPort } from "../storage/do-sql-port.ts";
import { PolicyStore } from "./policy-store.ts";
import { MapDirectory, type DirectoryEntry } from "./map-directory.ts";
import { parseShardConfig, type ShardSnapshot } from "../../core/placement.ts";
import { partitionObjectName } from "../../core/object-name.ts";
import type { MapOccupancy } from "../placement/map-fence.ts";
import type { MoveAnswer, MoveStep } from "../migration/move-step.ts";
import { ShardStore, type ReshardOutcome, type ReshardProgress, type RunningReshard } from "./shard-store.ts";
import { Resharder, type ReshardAnswer } from "./resharder.ts";

/** What the control object calls on a partition during a reshard (Partition's RPC methods of the same names). */
interface ReshardTarget extends Rpc.DurableObjectBranded {
  ownerInspectMap(request: { map: string }): Promise<MapOccupancy>;
  ownerFenceMap(request: { map: string; shards: number }): Promise<MapOccupancy>;
  ownerMove(step: MoveStep): Promise<MoveAnswer>;
}

/** The bindings the control object uses (the Worker's; declared here so this module does not import Partition). */
interface ControlEnv {
  PARTITION?: DurableObjectNamespace<ReshardTarget>;
  TOPGUN_SHARDED_MAPS?: string;
}

/** A map's shard count as the admin API shows it. */
export interface MapPlacement {
  shards: number;
  /** `namespace`: set by a reshard of this namespace; `default`: the deployment's TOPGUN_SHARDED_MAPS (or 1). */
  source: "namespace" | "default";
  /** The version of the namespace's shard counts. */
  version: number;
  /** The reshard running, with how far the copy of a map's records got (`copy`, once it started). */
  reshard?: RunningReshard & { copy?: ReshardProgress };
  lastReshard?: ReshardOutcome;
}
import type { JsonSchema, MapSchema, SchemaChanges } from "../../core/map-schema.ts";
import { SchemaStore } from "./schema-store.ts";

/**
 * The control plane of one namespace (`<namespace>/control`): facts that change rarely and are read on every op
 * (access policies, map schemas, the directory of maps). A thin shell over its stores; partitions read a cached copy (objects/access/).
 */
export class Control extends DurableObject<ControlEnv> {
  #policies: PolicyStore | undefined;
  #maps: MapDirectory | undefined;
  #shards: ShardStore | undefined;
  #resharder: Resharder | undefined;
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

  /** The namespace's shard counts, as partitions cache them (objects/placement/shard-cache.ts). */
  shardSnapshot(): ShardSnapshot {
    return this.#shardStore().snapshot();
  }
  mapPlacement(map: string): MapPlacement {
    const store = this.#shardStore();
    const own = store.countOf(map);
    const running = store.running(map);
    const last = store.lastOutcome(map);
    return {
      shards: this.#reshards().shardsOf(map),
      source: own === undefined ? "default" : "namespace",
      version: store.snapshot().version,
      ...(running ? { reshard: { ...running, ...store.progress(running.map) } } : {}),
      ...(last ? { lastReshard: last } : {}),
    };
  }
  /** Moves a map to `shards` shards (validated by the caller: 1..271). See resharder.ts. */
  reshard(request: { map: string; shards: number }): Promise<ReshardAnswer> {
    return this.#reshards().reshard(request.map, request.shards);
  }

  /** Resumes reshards a restart interrupted. */
  override async alarm(): Promise<void> {
    await this.#reshards().resume();
  }

  #shardStore(): ShardStore {
    this.#shards ??= new ShardStore(durableObjectSqlPort(this.ctx.storage));
    return this.#shards;
  }

  #reshards(): Resharder {
    this.#resharder ??= new Resharder({
      store: this.#shardStore(),
      defaults: () => parseShardConfig(this.env.TOPGUN_SHARDED_MAPS ?? ""),
      targets: {
        inspect: (partition, map) => this.#partition(partition).ownerInspectMap({ map }),
        fence: (partition, map, shards) => this.#partition(partition).ownerFenceMap({ map, shards }),
        move: (partition, step) => this.#partition(partition).ownerMove(step),
      },
      wakeAt: (at) => this.ctx.storage.setAlarm(at),
    });
    return this.#resharder;
  }

  #partition(id: number): DurableObjectStub<ReshardTarget> {
    const binding = this.env.PARTITION;
    if (!binding) throw new Error("the control object needs the PARTITION binding to reshard");
    return binding.get(binding.idFromName(partitionObjectName(namespaceOf(this.ctx.id.name), id)));
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

/** The namespace of a control object's name (`<namespace>/control`). */
function namespaceOf(name: string | undefined): string {
  const suffix = "/control";
  if (name === undefined || !name.endsWith(suffix)) throw new Error(`a control object needs a name of the form <namespace>/control, got ${String(name)}`);
  return name.slice(0, -suffix.length);
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
  shardSnapshot(): Promise<ShardSnapshot>;
  mapPlacement(map: string): Promise<MapPlacement>;
  reshard(request: { map: string; shards: number }): Promise<ReshardAnswer>;
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
    shardSnapshot: () => stub.shardSnapshot(),
    mapPlacement: (map) => stub.mapPlacement(map),
    reshard: (request) => stub.reshard(request),
  };
}
