import { accessFor, DENY_ALL, type Access, type AccessRequest, type PolicySnapshot } from "../../core/access-policy.ts";
import type { Principal } from "../../core/principal.ts";
import type { PolicyCache } from "./policy-cache.ts";

/** The access of one principal, asked once per resource and action while one message is handled. */
export type AccessOf = (request: AccessRequest) => Access;

/** What every principal may do under one copy of the policies. */
export interface AccessView {
  /** The principal's access function; decisions are memoized per resource and action. */
  accessOf(principal: Principal): AccessOf;
  /** True when the principal may read every map whole (no policies, or an admin subject): the journal of all maps. */
  readsEverything(principal: Principal): boolean;
}

/** The view while no policies can be read: a failure to read the policy store denies (PROTOCOL-NEXT.md §5.2). */
const DENYING_VIEW: AccessView = { accessOf: () => () => DENY_ALL, readsEverything: () => false };

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
    return (await this.view()).accessOf(principal);
  }

  /** True when the principal may read every map whole (no policies, or an admin subject): the journal of all maps. */
  async readsEverything(principal: Principal): Promise<boolean> {
    return (await this.view()).readsEverything(principal);
  }

  /** The view under the current policies (fetched if the partition holds no copy that may serve). */
  async view(): Promise<AccessView> {
    try {
      return this.#viewOf(await this.#policies.current());
    } catch (err) {
      console.error("[access] no policies could be read; denying", err);
      return DENYING_VIEW;
    }
  }

  /** The view under the copy the partition holds, without waiting; undefined when the copy must be fetched first. */
  viewNow(): AccessView | undefined {
    const snapshot = this.#policies.atHand();
    return snapshot === undefined ? undefined : this.#viewOf(snapshot);
  }

  #viewOf(snapshot: PolicySnapshot): AccessView {
    const adminSubjects = this.#adminSubjects;
    return {
      accessOf(principal) {
        const decided = new Map<string, Access>();
        return (request) => {
          const id = `${request.action}${request.removal === true ? "-" : ""}\u0000${request.resource}`;
          let access = decided.get(id);
          if (access === undefined) {
            access = accessFor(snapshot, principal, request, adminSubjects);
            decided.set(id, access);
          }
          return access;
        };
      },
      readsEverything: (principal) => !snapshot.configured || (principal.id !== null && adminSubjects.has(principal.id)),
    };
  }
}

/** Admin subjects from TOPGUN_ADMIN_SUBJECTS: comma-separated `sub` values, trimmed, empty entries ignored. */
export function parseAdminSubjects(text: string | undefined): ReadonlySet<string> {
  return new Set((text ?? "").split(",").map((s) => s.trim()).filter(Boolean));
}
