// Access policies (PROTOCOL-NEXT.md §5, with the Edge rules of README "Access control"): which principal may read
// or write which map, topic, counter or lock, down to the record. Runtime-free: the server enforces it, tests and
// tools can evaluate it anywhere.
import { authContextOf, type Principal } from "./principal.ts";
import { evaluatePredicate } from "./predicate.ts";
import type { PredicateNode } from "./protocol/shared.ts";

export type PolicyAction = "read" | "write" | "remove" | "all";
export type PolicyEffect = "allow" | "deny";

/** One stored policy; `condition` is the parsed `conditionExpr` (or given directly as a predicate tree). */
export interface AccessPolicy {
  id: string;
  mapPattern: string;
  action: PolicyAction;
  effect: PolicyEffect;
  condition?: PredicateNode;
  conditionExpr?: string;
}

/** A namespace's policies as partitions cache them; `configured` stays true once any policy was ever created. */
export interface PolicySnapshot {
  version: number;
  configured: boolean;
  policies: AccessPolicy[];
}

/** The policies nobody configured: everything is allowed (v0.12 behaviour). */
export const OPEN_SNAPSHOT: PolicySnapshot = { version: 0, configured: false, policies: [] };

/**
 * What a principal may do with one resource: everything, nothing, or the records that pass `filter` (a predicate
 * over the record value with the principal already bound in, so it can travel to an owner and be stored there).
 */
export type Access = { kind: "all" } | { kind: "none" } | { kind: "filter"; filter: PredicateNode };

export const ALLOW_ALL: Access = { kind: "all" };
export const DENY_ALL: Access = { kind: "none" };

/** Resource names of what is not a map: a policy's pattern names them with this prefix (`topic:chat.*`). */
export const RESOURCE_PREFIX = { topic: "topic:", counter: "counter:", lock: "lock:" } as const;

/** Maps reserved for the server (`_topgun_…`, `__topgun_…`, any case): every client operation on them is denied. */
export function isInternalName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith("_topgun_") || lower.startsWith("__topgun_");
}

/**
 * A map pattern against a name, both split on `.`: a lone `*` matches every name, a `*` segment exactly one segment,
 * `**` zero or more segments, anything else itself.
 */
export function matchesPattern(pattern: string, name: string): boolean {
  if (pattern === "*") return true;
  return matchSegments(pattern.split("."), 0, name.split("."), 0);
}

function matchSegments(pattern: readonly string[], p: number, name: readonly string[], n: number): boolean {
  if (p === pattern.length) return n === name.length;
  const segment = pattern[p];
  if (segment === "**") {
    for (let skip = n; skip <= name.length; skip += 1) if (matchSegments(pattern, p + 1, name, skip)) return true;
    return false;
  }
  if (n === name.length) return false;
  return (segment === "*" || segment === name[n]) && matchSegments(pattern, p + 1, name, n + 1);
}

/** What a request asks: read or write a resource; a removal also answers to policies whose action is `remove`. */
export interface AccessRequest {
  action: "read" | "write";
  resource: string;
  removal?: boolean;
}

const TRUE: PredicateNode = { op: "and", children: [] };
const FALSE: PredicateNode = { op: "or", children: [] };
const isTrue = (node: PredicateNode) => node.op === "and" && (node.children ?? []).length === 0;
const isFalse = (node: PredicateNode) => node.op === "or" && (node.children ?? []).length === 0;

/**
 * The access of `principal` to a resource (PROTOCOL-NEXT.md §5.2): no policy ever configured allows everything;
 * admin subjects bypass policies; internal maps are denied; otherwise the matching policies decide, deny winning
 * over allow, and whatever no policy allows is denied. Conditions are bound to the principal here, so the
 * result depends only on the record.
 */
export function accessFor(snapshot: PolicySnapshot, principal: Principal, request: AccessRequest, adminSubjects: ReadonlySet<string>): Access {
  if (isInternalName(request.resource)) return DENY_ALL;
  if (!snapshot.configured) return ALLOW_ALL;
  if (principal.id !== null && adminSubjects.has(principal.id)) return ALLOW_ALL;
  const auth = authContextOf(principal);
  const allows: PredicateNode[] = [];
  const denies: PredicateNode[] = [];
  for (const policy of snapshot.policies) {
    const actionMatches =
      policy.action === "all" || policy.action === request.action || (policy.action === "remove" && request.removal === true);
    if (!actionMatches || !matchesPattern(policy.mapPattern, request.resource)) continue;
    const condition = policy.condition === undefined ? TRUE : bindAuth(policy.condition, auth);
    (policy.effect === "deny" ? denies : allows).push(condition);
  }
  const allowed = simplify({ op: "or", children: allows });
  const denied = simplify({ op: "or", children: denies });
  if (isTrue(denied) || isFalse(allowed)) return DENY_ALL;
  if (isFalse(denied)) return isTrue(allowed) ? ALLOW_ALL : { kind: "filter", filter: allowed };
  return { kind: "filter", filter: simplify({ op: "and", children: [allowed, { op: "not", children: [denied] }] }) };
}

/** True when the access lets this record through (`value` is the record's value, `key` its key). */
export function permits(access: Access, value: unknown, key?: string): boolean {
  if (access.kind === "all") return true;
  if (access.kind === "none") return false;
  return evaluatePredicate(access.filter, value, key === undefined ? {} : { key });
}

/**
 * Replaces every `auth.*` reference by the principal's value: a leaf comparing a literal with `auth.*` becomes a
 * constant, one comparing a field with `auth.*` a literal comparison, and an `auth.*` the principal lacks makes its
 * leaf false.
 */
function bindAuth(node: PredicateNode, auth: Record<string, unknown>): PredicateNode {
  if (node.op === "and" || node.op === "or" || node.op === "not") {
    return simplify({ op: node.op, children: (node.children ?? []).map((child) => bindAuth(child, auth)) });
  }
  const ref = node.valueRef;
  if (ref === undefined || !ref.startsWith("auth.")) return node;
  if (node.attribute === undefined) return evaluatePredicate(node, {}, { auth }) ? TRUE : FALSE;
  const value = resolvePath(auth, ref.slice("auth.".length).split("."));
  if (value === undefined) return FALSE;
  const { valueRef: _bound, ...rest } = node;
  return { ...rest, value };
}

function resolvePath(root: Record<string, unknown>, path: readonly string[]): unknown {
  let current: unknown = root;
  for (const step of path) {
    if (typeof current !== "object" || current === null || Array.isArray(current) || !Object.hasOwn(current, step)) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/** Folds constant children of and/or/not (an empty `and` is true, an empty `or` false). */
function simplify(node: PredicateNode): PredicateNode {
  const children = node.children ?? [];
  switch (node.op) {
    case "and": {
      if (children.some(isFalse)) return FALSE;
      const kept = children.filter((child) => !isTrue(child));
      return kept.length === 1 ? (kept[0] as PredicateNode) : { op: "and", children: kept };
    }
    case "or": {
      if (children.some(isTrue)) return TRUE;
      const kept = children.filter((child) => !isFalse(child));
      return kept.length === 1 ? (kept[0] as PredicateNode) : { op: "or", children: kept };
    }
    case "not": {
      const first = children[0];
      if (first === undefined) return TRUE;
      if (isTrue(first)) return FALSE;
      if (isFalse(first)) return TRUE;
      return node;
    }
    default:
      return node;
  }
}

/** The query narrowed to the records a read filter lets through: `predicate` (or `where`) AND the filter. */
export function restrictQuery<Q extends { where?: Record<string, unknown> | undefined; predicate?: PredicateNode | undefined }>(query: Q, filter: PredicateNode): Q {
  const own = query.predicate ?? (query.where === undefined ? undefined : whereAsPredicate(query.where));
  const { where: _replaced, ...rest } = query;
  return { ...rest, predicate: own === undefined ? filter : { op: "and", children: [filter, own] } } as Q;
}

/** `where` as a predicate: every field equal (eq is `===`, and a missing field never equals a decoded value). */
function whereAsPredicate(where: Record<string, unknown>): PredicateNode {
  return { op: "and", children: Object.entries(where).map(([attribute, value]) => ({ op: "eq", attribute, value })) };
}
