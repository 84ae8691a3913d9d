/** An admin-plane error: JSON `{code, message, field?}` with the same status (PROTOCOL-NEXT.md §6.2). */
export function adminError(code: number, message: string, field?: string): Response {
  return Response.json(field === undefined ? { code, message } : { code, message, field }, { status: code });
}
