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

/** Exp is checked only when present, with TopGun's 60 s leeway. */
const CLOCK_TOLERANCE_S = 60;

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
      ...(claims.issuer ? { issuer: claims.issuer } : {}),
      ...(claims.audience ? { audience: claims.audience } : {}),
    });
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
  if (err instanceof errors.JWTClaimValidationFailed) return `InvalidClaim: ${err.claim}`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return "InvalidSignature";
  if (err instanceof errors.JOSEAlgNotAllowed) return "InvalidAlgorithm";
  if (err instanceof errors.JWKSNoMatchingKey) return "UnknownKey";
  if (err instanceof errors.JOSEError) return `InvalidToken: ${err.code}`;
  // Not the token's fault: the key set could not be fetched, or a configured PEM key is invalid.
  console.error("[auth] token verification failed", err);
  return "InvalidToken";
}
