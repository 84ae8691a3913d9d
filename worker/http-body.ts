/** Largest HTTP request body of the data plane (PROTOCOL-NEXT.md §2: HTTP 413 above it). */
export const MAX_HTTP_BODY_BYTES = 2 * 1024 * 1024;

/** The request's body bytes, or undefined when it is larger than MAX_HTTP_BODY_BYTES (declared or actual). */
export async function readBody(request: Request): Promise<Uint8Array | undefined> {
  const declared = Number(request.headers.get("Content-Length") ?? "0");
  if (declared > MAX_HTTP_BODY_BYTES) return undefined;
  const bytes = new Uint8Array(await request.arrayBuffer());
  return bytes.byteLength > MAX_HTTP_BODY_BYTES ? undefined : bytes;
}
