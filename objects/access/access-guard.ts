import { accessFor, DENY_ALL, type Access, type AccessRequest } from "../../core/access-policy.ts";
import type { Principal } from "../../core/principal.ts";
import type { PolicyCache } from "./policy-cache.ts";

/** The access of one principal, asked once per resource and action while one message is handled. */
export type AccessOf = (request: AccessRequest) => Access;

/**
 * Home role: decides what the principal of a connection (or an HTTP caller) may do, from the partition's cached
 * copy of the namespace's policies. A failure to read the policies denies everything.
 */
export class AccessGuard {
  readonly #policies: PolicyCache;
  readonly #adminSubjects: ReadonlySet<string>;

  constructor(deps: { policies: PolicyCache; adminSubjects: ReadonlySet<string> }) {
    this.#policies = deps.policies;
    this.#adminSubjects = deps.adminSubjects;
  }

  /** The principal's access function for one message; decisions are memoized per resource and action. */
  async forPrincipal(principal: Principal): Promise<AccessOf> {
    let snapshot;
    try {
      snapshot = await this.#policies.current();
    } catch (err) {
      console.error("[access] no policies could be read; denying", err);
      return () => DENY_ALL;
    }
    const decided = new Map<string, Access>();
    return (request) => {
      const id = `${request.action}${request.removal === true ? "-" : ""}\u0000${request.resource}`;
      let access = decided.get(id);
      if (access === undefined) {
        access = accessFor(snapshot, principal, request, this.#adminSubjects);
        decided.set(id, access);
      }
      return access;
    };
  }

  /** True when the principal may read every map whole (no policies, or an admin subject): the journal of all maps. */
  async readsEverything(principal: Principal): Promise<boolean> {
    try {
      const snapshot = await this.#policies.current();
      return !snapshot.configured || (principal.id !== null && this.#adminSubjects.has(principal.id));
    } catch {
      return false;
    }
  }
}

/** Admin subjects from TOPGUN_ADMIN_SUBJECTS: comma-separated `sub` values, trimmed, empty entries ignored. */
export function parseAdminSubjects(text: string | undefined): ReadonlySet<string> {
  return new Set((text ?? "").split(",").map((s) => s.trim()).filter(Boolean));
}
