import { jwtVerify, errors } from "jose";
import { ANONYMOUS_PRINCIPAL, type Principal } from "../../core/principal.ts";
import type { Settings } from "../settings.ts";
import { tokenKeys, type KeySources, type TokenKeys } from "./token-keys.ts";

export type AuthResult = { ok: true; userId: string; principal: Principal } | { ok: false; error: string };

/** Verifies the token of an AUTH message (and the bearer token of an HTTP request). */
export interface Authenticator {
  /** True when every connection is accepted without a token (local development). */
  readonly open: boolean;
  verify(token: string | undefined): Promise<AuthResult>;
}

export interface AuthenticatorOptions extends KeySources {
  noAuth: boolean;
  /** When set, `iss` must be present and equal (TOPGUN_JWT_ISSUER). */
  issuer?: string | undefined;
  /** When set, `aud` must be present and equal, or an array holding it (TOPGUN_JWT_AUDIENCE). */
  audience?: string | undefined;
}

/** TopGun's leeway on `exp` (and `nbf`). */
const CLOCK_TOLERANCE_S = 60;

/** TopGun main refuses a token without an expiry or a subject (PROTOCOL-NEXT.md §3.1; v0.12 defaulted `sub`). */
const REQUIRED_CLAIMS = ["exp", "sub"];

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const keys = tokenKeys(options);
  const claims = { issuer: options.issuer || undefined, audience: options.audience || undefined };
  return {
    open: options.noAuth,
    async verify(token) {
      if (options.noAuth) {
        const verified = keys && token ? await verifyWith(keys, claims, token) : undefined;
        return verified?.ok ? verified : { ok: true, userId: "anonymous", principal: ANONYMOUS_PRINCIPAL };
      }
      if (!keys) return { ok: false, error: "server has no JWT_SECRET or TOPGUN_JWKS_URL configured" };
      if (!token) return { ok: false, error: "missing token" };
      return verifyWith(keys, claims, token);
    },
  };
}

/** The authenticator a deployment's settings describe (the WebSocket home and the Worker's HTTP routes share it). */
export function authenticatorFromSettings(settings: Settings): Authenticator {
  return createAuthenticator(authOptionsOf(settings));
}

export function authOptionsOf(settings: Settings): AuthenticatorOptions {
  const cooldown = Number(settings.TOPGUN_JWKS_COOLDOWN_MS);
  return {
    noAuth: isOn(settings.TOPGUN_NO_AUTH),
    secret: settings.JWT_SECRET,
    jwksUrl: settings.TOPGUN_JWKS_URL,
    ...(settings.TOPGUN_JWKS_COOLDOWN_MS && Number.isFinite(cooldown) && cooldown >= 0 ? { jwksCooldownMs: cooldown } : {}),
    issuer: settings.TOPGUN_JWT_ISSUER,
    audience: settings.TOPGUN_JWT_AUDIENCE,
  };
}

function isOn(value: string | undefined): boolean {
  return value === "1" || value === "true";
}

async function verifyWith(keys: TokenKeys, claims: { issuer: string | undefined; audience: string | undefined }, token: string): Promise<AuthResult> {
  try {
    const { payload } = await jwtVerify(token, keys.key, {
      algorithms: keys.algorithms,
      clockTolerance: CLOCK_TOLERANCE_S,
      requiredClaims: REQUIRED_CLAIMS,
      ...(claims.issuer ? { issuer: claims.issuer } : {}),
      ...(claims.audience ? { audience: claims.audience } : {}),
    });
    const { sub, roles } = payload;
    if (typeof sub !== "string" || sub === "") return { ok: false, error: "InvalidClaim: sub" };
    // As TopGun: entries of `roles` that are not strings are ignored, and a `roles` that is not a list gives none.
    const roleNames = Array.isArray(roles) ? roles.filter((r): r is string => typeof r === "string") : [];
    return { ok: true, userId: sub, principal: { id: sub, roles: roleNames, claims: { ...payload } } };
  } catch (err) {
    return { ok: false, error: describeJoseError(err) };
  }
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "ExpiredSignature";
  if (err instanceof errors.JWTClaimValidationFailed) return `InvalidClaim: ${err.claim}`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return "InvalidSignature";
  if (err instanceof errors.JOSEAlgNotAllowed) return "InvalidAlgorithm";
  if (err instanceof errors.JWKSNoMatchingKey) return "UnknownKey";
  if (err instanceof errors.JOSEError) return `InvalidToken: ${err.code}`;
  // Not the token's fault: the key set could not be fetched, or a configured PEM key is invalid.
  console.error("[auth] token verification failed", err);
  return "InvalidToken";
}
