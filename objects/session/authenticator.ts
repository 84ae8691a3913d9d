import { jwtVerify, errors } from "jose";
import { ANONYMOUS_PRINCIPAL, type Principal } from "../../core/principal.ts";

export type AuthResult = { ok: true; userId: string; principal: Principal } | { ok: false; error: string };

/** Verifies the token of an AUTH message. */
export interface Authenticator {
  /** True when every connection is accepted without a token (local development). */
  readonly open: boolean;
  verify(token: string | undefined): Promise<AuthResult>;
}

/** Exp is checked only when present, with TopGun's 60 s leeway; other algorithms than HS256 are refused. */
const CLOCK_TOLERANCE_S = 60;

export function createAuthenticator(options: { secret: string | undefined; noAuth: boolean }): Authenticator {
  const key = options.secret ? new TextEncoder().encode(options.secret) : undefined;
  return {
    open: options.noAuth,
    async verify(token) {
      if (options.noAuth) {
        const claims = key && token ? await verifyWith(key, token) : undefined;
        return claims?.ok ? claims : { ok: true, userId: "anonymous", principal: ANONYMOUS_PRINCIPAL };
      }
      if (!key) return { ok: false, error: "server has no JWT_SECRET configured" };
      if (!token) return { ok: false, error: "missing token" };
      return verifyWith(key, token);
    },
  };
}

async function verifyWith(key: Uint8Array, token: string): Promise<AuthResult> {
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ["HS256"], clockTolerance: CLOCK_TOLERANCE_S });
    const { sub, roles } = payload;
    if (sub !== undefined && typeof sub !== "string") return { ok: false, error: "InvalidClaim: sub" };
    if (roles !== undefined && !(Array.isArray(roles) && roles.every((r) => typeof r === "string"))) {
      return { ok: false, error: "InvalidClaim: roles" };
    }
    const userId = sub ?? "anonymous";
    return { ok: true, userId, principal: { id: userId, roles: Array.isArray(roles) ? roles.map(String) : [], claims: { ...payload } } };
  } catch (err) {
    return { ok: false, error: describeJoseError(err) };
  }
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "ExpiredSignature";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "InvalidSignature";
  if (err instanceof errors.JOSEAlgNotAllowed) return "InvalidAlgorithm";
  if (err instanceof errors.JOSEError) return `InvalidToken: ${err.code}`;
  return "InvalidToken";
}
