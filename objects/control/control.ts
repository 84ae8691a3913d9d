import { DurableObject } from "cloudflare:workers";
import type { AccessPolicy, PolicySnapshot } from "../../core/access-policy.ts";
import { durableObjectSqlPort } from "../storage/do-sql-port.ts";
import { PolicyStore } from "./policy-store.ts";

/**
 * The control plane of one namespace (`<namespace>/control`): facts that change rarely and are read on every op
 * (access policies today). A thin shell over its stores; partitions read a cached copy (objects/access/).
 */
export class Control extends DurableObject {
  #policies: PolicyStore | undefined;

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

  #store(): PolicyStore {
    this.#policies ??= new PolicyStore(durableObjectSqlPort(this.ctx.storage));
    return this.#policies;
  }
}

/** The object name of a namespace's control object. */
export function controlObjectName(namespace: string): string {
  return `${namespace}/control`;
}
