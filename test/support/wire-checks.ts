// Checks on raw decoded frames, for rules that schema validation would hide.

/**
 * Paths of every `ttlMs` key holding nil in `value`. Records must leave an absent ttl out: the TS client hashes
 * ":ttl=null" otherwise and OR-Map roots never match (PROTOCOL.md Part A, clarifications).
 */
export function nilTtlPaths(value: unknown, path = "$"): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => nilTtlPaths(item, `${path}[${i}]`));
  if (typeof value !== "object" || value === null) return [];
  const found: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    if (key === "ttlMs" && item === null) found.push(`${path}.ttlMs`);
    else found.push(...nilTtlPaths(item, `${path}.${key}`));
  }
  return found;
}
