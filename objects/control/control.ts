import { DurableObject } from "cloudflare:workers";
import type { AccessPolicy, PolicySnapshot } from "../../core/access-policy.ts";
import { durableObjectSqlPort } from "../storage/do-sql-port.ts";
import { PolicyStore } from "./policy-store.ts";
import { MapDirectory, type DirectoryEntry } from "./map-directory.ts";

/**
 * The control plane of one namespace (`<namespace>/control`): facts that change rarely and are read on every op
 * (access policies, the directory of maps). A thin shell over its stores; partitions read a cached copy (objects/access/).
 */
export class Control extends DurableObject {
  #policies: PolicyStore | undefined;
  #maps: MapDirectory | undefined;

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

  #store(): PolicyStore {
    this.#policies ??= new PolicyStore(durableObjectSqlPort(this.ctx.storage));
    return this.#policies;
  }
}

/** The object name of a namespace's control object. */
export function controlObjectName(namespace: string): string {
  return `${namespace}/control`;
}

/** The control object of a namespace as callers see it (RPC types of `unknown`-valued policies, spelled out). */
export interface ControlApi {
  policySnapshot(): Promise<PolicySnapshot>;
  listPolicies(): Promise<AccessPolicy[]>;
  getPolicy(id: string): Promise<AccessPolicy | undefined>;
  canStorePolicy(id: string, limit: number): Promise<boolean>;
  putPolicy(policy: AccessPolicy): Promise<AccessPolicy>;
  deletePolicy(id: string): Promise<boolean>;
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
    reportMaps: (request) => stub.reportMaps(request),
    listMaps: () => stub.listMaps(),
  };
}
