/**
 * The token of an `Authorization: Bearer <token>` header: undefined when there is no header, null when the header is
 * there but is not a bearer token (callers refuse that as a failed authentication).
 */
export function bearerTokenOf(request: Request): string | null | undefined {
  const header = request.headers.get("Authorization");
  if (header === null) return undefined;
  return /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? null;
}
