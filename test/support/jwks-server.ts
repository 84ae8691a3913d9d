// A JSON Web Key Set served from the test process (node:http), standing in for an identity provider: it signs
// tokens with its current key and can rotate to a new key (new kid) while running.
import { createServer, type Server } from "node:http";
import { randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";

export type JwksAlgorithm = "RS256" | "ES256" | "EdDSA";

interface SigningKey {
  kid: string;
  alg: JwksAlgorithm;
  privateKey: CryptoKey;
  jwk: JWK;
}

export interface JwksServer {
  /** http://127.0.0.1:PORT/jwks.json */
  url: string;
  /** How many times the key set was fetched. */
  readonly fetches: number;
  /** The kid that sign() uses now. */
  readonly currentKid: string;
  /** Signs a token with the current key: `sub`, `exp` 1 h, and the given claims (`iss`, `aud`, … included). */
  sign(claims?: JWTPayload & { sub?: string }, options?: { kid?: string }): Promise<string>;
  /** Replaces the published keys with a new one (new kid) of `alg`; the old key is no longer published. */
  rotate(alg?: JwksAlgorithm): Promise<void>;
  /** Adds a key to the published set without making it current. */
  addKey(alg: JwksAlgorithm): Promise<string>;
  stop(): Promise<void>;
}

async function newKey(alg: JwksAlgorithm): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === "EdDSA" ? { crv: "Ed25519" } : {});
  const kid = `key-${randomUUID().slice(0, 8)}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { kid, alg, privateKey, jwk };
}

export async function startJwksServer(alg: JwksAlgorithm = "RS256"): Promise<JwksServer> {
  let published: SigningKey[] = [await newKey(alg)];
  let current = published[0] as SigningKey;
  let fetches = 0;
  const server: Server = createServer((request, response) => {
    if (request.url !== "/jwks.json") {
      response.writeHead(404).end();
      return;
    }
    fetches++;
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: published.map((k) => k.jwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("the JWKS server has no port");
  return {
    url: `http://127.0.0.1:${address.port}/jwks.json`,
    get fetches() {
      return fetches;
    },
    get currentKid() {
      return current.kid;
    },
    async sign(claims = {}, options = {}) {
      const key = published.find((k) => k.kid === (options.kid ?? current.kid)) ?? current;
      const jwt = new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: options.kid ?? key.kid }).setIssuedAt().setExpirationTime("1h");
      return (claims.sub === undefined ? jwt.setSubject("jwks-user") : jwt).sign(key.privateKey);
    },
    async rotate(nextAlg = alg) {
      current = await newKey(nextAlg);
      published = [current];
    },
    async addKey(extraAlg) {
      const key = await newKey(extraAlg);
      published = [...published, key];
      return key.kid;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
