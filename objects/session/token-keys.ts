import { createRemoteJWKSet, errors, importSPKI, type CryptoKey, type JWTVerifyGetKey } from "jose";

/** Where token signatures are checked: an HS256 secret or an RS256 PEM public key (`JWT_SECRET`), a JWKS URL, or both. */
export interface KeySources {
  /** `JWT_SECRET`: a PEM public key (`-----BEGIN ...`) selects RS256, anything else is an HS256 secret. */
  secret?: string | undefined;
  /** `TOPGUN_JWKS_URL`: RS256, ES256 and EdDSA keys, chosen by the token's `kid`. */
  jwksUrl?: string | undefined;
  /** After a fetch, how long an unknown `kid` waits before the set is fetched again (default 30 s). */
  jwksCooldownMs?: number | undefined;
}

/** Algorithms a JWKS key may sign with ("Ed25519" is the newer name of EdDSA over Ed25519). */
const JWKS_ALGORITHMS = ["RS256", "ES256", "EdDSA", "Ed25519"];

/** How long a fetched key set is used before it is fetched again, whatever the kids (jose's default). */
const JWKS_MAX_AGE_MS = 10 * 60_000;

/** jose's default: an unknown kid right after a fetch does not fetch again, so forged kids cannot flood the IdP. */
const DEFAULT_JWKS_COOLDOWN_MS = 30_000;

/** The key a token is verified with, and the algorithms it may use. */
export interface TokenKeys {
  algorithms: string[];
  key: JWTVerifyGetKey;
}

type RemoteKeySet = ReturnType<typeof createRemoteJWKSet>;

// Per isolate, not per object or connection: every partition object of this isolate shares one fetched key set
// per URL (and cooldown), and an imported PEM key per text. jose refetches on an unknown kid after the cooldown,
// so a key rotated at the identity provider is picked up without a redeploy.
const remoteKeySets = new Map<string, RemoteKeySet>();
const pemKeys = new Map<string, Promise<CryptoKey>>();
// Imported once per secret: jose imports a raw HS256 secret (a Uint8Array) again on every verification, which was
// about a third of the JavaScript of verifying a connection's AUTH. Secrets come from settings, so a few at most are held.
const hmacKeys = new Map<string, Promise<CryptoKey>>();
/** Imported keys kept per isolate, each of hmacKeys and pemKeys (settings hold one secret; tests use a few). */
const MAX_IMPORTED_KEYS = 16;

/** The verification keys of the configured sources; undefined when none is configured. */
export function tokenKeys(sources: KeySources): TokenKeys | undefined {
  const secret = sources.secret || undefined;
  const pem = secret !== undefined && isPem(secret) ? pemKey(secret) : undefined;
  const hmac = secret !== undefined && pem === undefined ? hmacKey(secret) : undefined;
  const jwks = sources.jwksUrl ? remoteKeySet(sources.jwksUrl, sources.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS) : undefined;
  if (!pem && !hmac && !jwks) return undefined;
  const algorithms = [...(hmac ? ["HS256"] : []), ...(pem ? ["RS256"] : []), ...(jwks ? JWKS_ALGORITHMS : [])];
  const key: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === "HS256" && hmac) return hmac;
    // An RS256 token names its key by kid when it comes from the key set; without a kid it is the PEM key's.
    if (header.alg === "RS256" && pem && (!jwks || header.kid === undefined)) return pem;
    if (jwks && JWKS_ALGORITHMS.includes(header.alg ?? "")) return jwks(header, token);
    throw new errors.JOSEAlgNotAllowed(`"alg" (Algorithm) Header Parameter value not allowed`);
  };
  return { algorithms: [...new Set(algorithms)], key };
}

export function isPem(secret: string): boolean {
  return secret.trimStart().startsWith("-----BEGIN");
}

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    if (hmacKeys.size >= MAX_IMPORTED_KEYS) hmacKeys.clear();
    hmacKeys.set(secret, key);
    key.catch(() => hmacKeys.delete(secret));
  }
  return key;
}

function pemKey(text: string): Promise<CryptoKey> {
  let key = pemKeys.get(text);
  if (!key) {
    // A PEM passed through an environment variable often carries literal "\n" sequences instead of line breaks.
    key = importSPKI(text.trim().replaceAll("\\n", "\n"), "RS256");
    if (pemKeys.size >= MAX_IMPORTED_KEYS) pemKeys.clear();
    pemKeys.set(text, key);
    // A bad PEM is reported on every verify (the promise rejects), and a corrected one is imported afresh.
    key.catch(() => pemKeys.delete(text));
  }
  return key;
}

function remoteKeySet(url: string, cooldownMs: number): RemoteKeySet {
  const cacheKey = `${cooldownMs} ${url}`;
  let set = remoteKeySets.get(cacheKey);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), { cooldownDuration: cooldownMs, cacheMaxAge: JWKS_MAX_AGE_MS });
    remoteKeySets.set(cacheKey, set);
  }
  return set;
}
