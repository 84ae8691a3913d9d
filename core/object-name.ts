import { PARTITION_COUNT } from "./placement.ts";

/** The namespace used when a request names none. */
export const DEFAULT_NAMESPACE = "default";

const NAMESPACE_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** True when `name` can be used as a namespace (lowercase letters, digits, `_` and `-`; 1..64 characters). */
export function isValidNamespace(name: string): boolean {
  return NAMESPACE_PATTERN.test(name);
}

/** The Durable Object name of a partition: `<namespace>/p<id>` (DESIGN.md). */
export function partitionObjectName(namespace: string, partitionId: number): string {
  return `${namespace}/p${partitionId}`;
}

/** Parses `<namespace>/p<id>`; undefined for anything else. */
export function parsePartitionObjectName(name: string): { namespace: string; partitionId: number } | undefined {
  const slash = name.lastIndexOf("/p");
  if (slash <= 0) return undefined;
  const namespace = name.slice(0, slash);
  const digits = name.slice(slash + 2);
  if (!/^\d{1,3}$/.test(digits) || !isValidNamespace(namespace)) return undefined;
  const partitionId = Number(digits);
  return partitionId < PARTITION_COUNT ? { namespace, partitionId } : undefined;
}
