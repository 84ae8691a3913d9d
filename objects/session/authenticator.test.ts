import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { startJwksServer, type JwksServer } from "../../test/support/jwks-server.ts";
import { authOptionsOf, createAuthenticator } from "./authenticator.ts";

const servers: JwksServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function jwks(alg?: "RS256" | "ES256" | "EdDSA"): Promise<JwksServer> {
  const server = await startJwksServer(alg);
  servers.push(server);
  return server;
}

describe("authenticator with a JWKS URL", () => {
  it.each(["RS256", "ES256", "EdDSA"] as const)("accepts a %s token signed by a key of the set, chosen by kid", async (alg) => {
    const idp = await jwks(alg);
    const auth = createAuthenticator({ noAuth: false, jwksUrl: idp.url });
    const result = await auth.verify(await idp.sign({ sub: "alice", roles: ["editor"], org: "acme" }));
    expect(result).toEqual({ ok: true, userId: "alice", principal: { id: "alice", roles: ["editor"], claims: expect.objectContaining({ sub: "alice", org: "acme" }) } });
  });

  it("fetches the key set once for many tokens", async () => {
    const idp = await jwks();
    const auth = createAuthenticator({ noAuth: false, jwksUrl: idp.url });
    for (let i = 0; i < 5; i++) expect((await auth.verify(await idp.sign())).ok).toBe(true);
    expect(idp.fetches).toBe(1);
  });

  it("shares one key set per URL between authenticators (one per isolate, not per connection)", async () => {
    const idp = await jwks();
    const token = await idp.sign();
    await createAuthenticator({ noAuth: false, jwksUrl: idp.url }).verify(token);
    await createAuthenticator({ noAuth: false, jwksUrl: idp.url }).verify(token);
    expect(idp.fetches).toBe(1);
  });

  it("accepts a token of a rotated key by fetching the set again on its unknown kid", async () => {
    const idp = await jwks();
    const auth = createAuthenticator({ noAuth: false, jwksUrl: idp.url, jwksCooldownMs: 0 });
    const oldToken = await idp.sign();
    expect((await auth.verify(oldToken)).ok).toBe(true);
    await idp.rotate();
    expect((await auth.verify(await idp.sign())).ok).toBe(true);
    expect(idp.fetches).toBe(2);
    expect(await auth.verify(oldToken)).toEqual({ ok: false, error: "UnknownKey" });
  });

  it("refuses an unknown kid without refetching during the cooldown", async () => {
    const idp = await jwks();
    const auth = createAuthenticator({ noAuth: false, jwksUrl: idp.url, jwksCooldownMs: 60_000 });
    expect((await auth.verify(await idp.sign())).ok).toBe(true);
    await idp.rotate();
    expect(await auth.verify(await idp.sign())).toEqual({ ok: false, error: "UnknownKey" });
    expect(idp.fetches).toBe(1);
  });

  it("refuses an HS256 token when only a key set is configured", async () => {
    const idp = await jwks();
    const auth = createAuthenticator({ noAuth: false, jwksUrl: idp.url });
    const hs = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("x").setExpirationTime("1h").sign(new TextEncoder().encode("s"));
    expect(await auth.verify(hs)).toEqual({ ok: false, error: "InvalidAlgorithm" });
  });
});

describe("authenticator issuer and audience", () => {
  const options = { noAuth: false, secret: "hs-secret", issuer: "https://idp.example", audience: "topgun" };
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setSubject("bob").setExpirationTime("1h").sign(new TextEncoder().encode("hs-secret"));

  it("accepts a token whose iss and aud equal the configured ones", async () => {
    expect((await createAuthenticator(options).verify(await sign({ iss: "https://idp.example", aud: "topgun" }))).ok).toBe(true);
  });

  it("accepts an aud array that holds the configured audience", async () => {
    expect((await createAuthenticator(options).verify(await sign({ iss: "https://idp.example", aud: ["other", "topgun"] }))).ok).toBe(true);
  });

  it("refuses a wrong or missing issuer", async () => {
    const auth = createAuthenticator(options);
    expect(await auth.verify(await sign({ iss: "https://evil.example", aud: "topgun" }))).toEqual({ ok: false, error: "InvalidClaim: iss" });
    expect(await auth.verify(await sign({ aud: "topgun" }))).toEqual({ ok: false, error: "InvalidClaim: iss" });
  });

  it("refuses a wrong or missing audience", async () => {
    const auth = createAuthenticator(options);
    expect(await auth.verify(await sign({ iss: "https://idp.example", aud: "else" }))).toEqual({ ok: false, error: "InvalidClaim: aud" });
    expect(await auth.verify(await sign({ iss: "https://idp.example" }))).toEqual({ ok: false, error: "InvalidClaim: aud" });
  });

  it("checks neither when they are not configured", async () => {
    expect((await createAuthenticator({ noAuth: false, secret: "hs-secret" }).verify(await sign({ iss: "anyone", aud: "anything" }))).ok).toBe(true);
  });
});

describe("authenticator required claims", () => {
  const key = new TextEncoder().encode("hs-secret");
  const auth = createAuthenticator({ noAuth: false, secret: "hs-secret" });

  it("refuses a token without exp", async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("dave").sign(key);
    expect(await auth.verify(token)).toEqual({ ok: false, error: "InvalidClaim: exp" });
  });

  it("refuses a token without sub", async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h").sign(key);
    expect(await auth.verify(token)).toEqual({ ok: false, error: "InvalidClaim: sub" });
  });

  it("accepts a token expired less than 60 s ago and refuses one expired longer ago", async () => {
    const now = Math.floor(Date.now() / 1000);
    const recent = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("e").setExpirationTime(now - 30).sign(key);
    const old = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("e").setExpirationTime(now - 120).sign(key);
    expect((await auth.verify(recent)).ok).toBe(true);
    expect(await auth.verify(old)).toEqual({ ok: false, error: "ExpiredSignature" });
  });

  it("ignores entries of roles that are not strings", async () => {
    const token = await new SignJWT({ roles: ["editor", 7, null, "viewer"] }).setProtectedHeader({ alg: "HS256" }).setSubject("f").setExpirationTime("1h").sign(key);
    expect(await auth.verify(token)).toMatchObject({ ok: true, principal: { roles: ["editor", "viewer"] } });
  });
});

describe("authenticator with a PEM JWT_SECRET", () => {
  it("verifies RS256 tokens with the public key, also when its line breaks arrive as \\n", async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
    const pem = await exportSPKI(publicKey);
    const token = await new SignJWT({}).setProtectedHeader({ alg: "RS256" }).setSubject("carol").setExpirationTime("1h").sign(privateKey);
    expect(await createAuthenticator({ noAuth: false, secret: pem }).verify(token)).toMatchObject({ ok: true, userId: "carol" });
    expect(await createAuthenticator({ noAuth: false, secret: pem.replaceAll("\n", "\\n") }).verify(token)).toMatchObject({ ok: true, userId: "carol" });
  });

  it("refuses an HS256 token signed with the PEM text as its secret", async () => {
    const { publicKey } = await generateKeyPair("RS256", { extractable: true });
    const pem = await exportSPKI(publicKey);
    const forged = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("mallory").setExpirationTime("1h").sign(new TextEncoder().encode(pem));
    expect(await createAuthenticator({ noAuth: false, secret: pem }).verify(forged)).toEqual({ ok: false, error: "InvalidAlgorithm" });
  });
});

describe("authOptionsOf", () => {
  it("reads every identity setting", () => {
    expect(
      authOptionsOf({
        JWT_SECRET: "s",
        TOPGUN_NO_AUTH: "",
        TOPGUN_JWKS_URL: "https://idp.example/jwks.json",
        TOPGUN_JWKS_COOLDOWN_MS: "0",
        TOPGUN_JWT_ISSUER: "https://idp.example",
        TOPGUN_JWT_AUDIENCE: "topgun",
      }),
    ).toEqual({ noAuth: false, secret: "s", jwksUrl: "https://idp.example/jwks.json", jwksCooldownMs: 0, issuer: "https://idp.example", audience: "topgun" });
  });
});
