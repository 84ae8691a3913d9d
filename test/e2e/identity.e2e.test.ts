// Identity and tenancy against a server of its own: tokens from an identity provider's JWKS (served from this test
// process), an issuer and an audience, and the namespace taken from the token's `tenant` claim.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { uniqueName } from "../support/e2e-context.ts";
import { startJwksServer, type JwksServer } from "../support/jwks-server.ts";
import { startServer, type RunningServer } from "../support/server-harness.ts";
import { adminCall } from "../support/admin-api.ts";
import { lwwPut, TestClient } from "../support/ws-client.ts";

const ISSUER = "https://idp.test";
const AUDIENCE = "topgun-edge";

let idp: JwksServer;
let server: RunningServer;
const open: TestClient[] = [];

beforeAll(async () => {
  idp = await startJwksServer("ES256");
  server = await startServer({
    settings: {
      TOPGUN_JWKS_URL: idp.url,
      // Rotation is fetched on the first unknown kid: no cooldown, so the test need not wait 30 s.
      TOPGUN_JWKS_COOLDOWN_MS: "0",
      TOPGUN_JWT_ISSUER: ISSUER,
      TOPGUN_JWT_AUDIENCE: AUDIENCE,
      TOPGUN_NAMESPACE_CLAIM: "tenant",
      TOPGUN_ADMIN_SUBJECTS: "root",
    },
  });
});

afterAll(async () => {
  for (const client of open) client.close();
  await server?.stop();
  await idp?.stop();
});

/** Claims every accepted token carries here. */
const valid = (tenant: string, sub = uniqueName("user")) => ({ sub, tenant, iss: ISSUER, aud: AUDIENCE });

async function connect(params: Record<string, string>): Promise<TestClient> {
  const client = await TestClient.connect(server.wsUrl(params), { autoAuth: false });
  open.push(client);
  return client;
}

/** Opens a socket and authenticates with `token`; answers AUTH_ACK or AUTH_FAIL (then the socket's close). */
async function authenticate(params: Record<string, string>, token: string) {
  const client = await connect(params);
  const answer = await client.authenticate(token);
  return { client, answer };
}

describe("JWKS tokens", () => {
  it("accepts a token signed by the identity provider's current key", async () => {
    const sub = uniqueName("alice");
    const { answer } = await authenticate({ namespace: "tenant-a" }, await idp.sign(valid("tenant-a", sub)));
    expect(answer).toEqual({ type: "AUTH_ACK", userId: sub });
  });

  it("accepts a token of a rotated key without restarting the server, and refuses the retired key", async () => {
    const oldToken = await idp.sign(valid("tenant-a"));
    expect((await authenticate({ namespace: "tenant-a" }, oldToken)).answer.type).toBe("AUTH_ACK");
    await idp.rotate("RS256");
    const fresh = await authenticate({ namespace: "tenant-a" }, await idp.sign(valid("tenant-a")));
    expect(fresh.answer.type).toBe("AUTH_ACK");
    expect((await authenticate({ namespace: "tenant-a" }, oldToken)).answer.type).toBe("AUTH_FAIL");
  });

  it("refuses a token whose kid the key set does not hold, with AUTH_FAIL and a close", async () => {
    const token = await idp.sign(valid("tenant-a"), { kid: "no-such-key" });
    const { client, answer } = await authenticate({ namespace: "tenant-a" }, token);
    expect(answer.type).toBe("AUTH_FAIL");
    expect((await client.waitForClose()).code).toBe(1008);
  });

  it("refuses a token of another issuer", async () => {
    const token = await idp.sign({ ...valid("tenant-a"), iss: "https://other.test" });
    expect((await authenticate({ namespace: "tenant-a" }, token)).answer).toEqual({ type: "AUTH_FAIL", error: "InvalidClaim: iss" });
  });

  it("refuses a token for another audience, or for none", async () => {
    const other = await idp.sign({ ...valid("tenant-a"), aud: "someone-else" });
    expect((await authenticate({ namespace: "tenant-a" }, other)).answer).toEqual({ type: "AUTH_FAIL", error: "InvalidClaim: aud" });
    const { aud: _aud, ...withoutAudience } = valid("tenant-a");
    const none = await idp.sign(withoutAudience);
    expect((await authenticate({ namespace: "tenant-a" }, none)).answer).toEqual({ type: "AUTH_FAIL", error: "InvalidClaim: aud" });
  });
});

describe("tenancy by token claim", () => {
  it("refuses a token of tenant A on namespace B with AUTH_FAIL and a close", async () => {
    const { client, answer } = await authenticate({ namespace: "tenant-b" }, await idp.sign(valid("tenant-a")));
    expect(answer.type).toBe("AUTH_FAIL");
    expect((await client.waitForClose()).code).toBe(1008);
  });

  it("refuses a token of tenant A on a connection without ?namespace= (the default namespace)", async () => {
    expect((await authenticate({}, await idp.sign(valid("tenant-a")))).answer.type).toBe("AUTH_FAIL");
  });

  it("refuses a token without the tenant claim", async () => {
    const { tenant: _tenant, ...noTenant } = valid("tenant-a");
    expect((await authenticate({ namespace: "tenant-a" }, await idp.sign(noTenant))).answer.type).toBe("AUTH_FAIL");
  });

  it("keeps tenant A's data out of tenant B's namespace", async () => {
    const map = uniqueName("shared-name");
    const a = await authenticate({ namespace: "tenant-a", map }, await idp.sign(valid("tenant-a")));
    const b = await authenticate({ namespace: "tenant-b", map }, await idp.sign(valid("tenant-b")));
    expect([a.answer.type, b.answer.type]).toEqual(["AUTH_ACK", "AUTH_ACK"]);
    await a.client.write([lwwPut(map, "secret", "of tenant a", new HLC("writera").now())]);

    a.client.send({ type: "SYNC_INIT", mapName: map });
    b.client.send({ type: "SYNC_INIT", mapName: map });
    expect((await a.client.waitFor("SYNC_RESP_ROOT")).payload.rootHash).not.toBe(0);
    expect((await b.client.waitFor("SYNC_RESP_ROOT")).payload.rootHash).toBe(0);
  });
});

describe("the admin plane under tenancy", () => {
  const policy = { mapPattern: "notes", action: "read", effect: "allow" };

  it("lets a tenant's admin (a JWKS token) manage its own namespace only", async () => {
    const token = await idp.sign({ ...valid("tenant-a", "ops-a"), roles: ["admin"] });
    expect((await adminCall(server.url, "/api/admin/policies", { method: "POST", body: policy, namespace: "tenant-a", token })).status).toBe(201);
    const other = await adminCall(server.url, "/api/admin/policies", { method: "POST", body: policy, namespace: "tenant-b", token });
    expect(other.status).toBe(403);
    expect(await adminCall(server.url, "/api/admin/policies", { namespace: "tenant-b", token: await idp.sign({ ...valid("tenant-b", "ops-b"), roles: ["admin"] }) })).toEqual({
      status: 200,
      body: { policies: [] },
    });
  });

  it("lets a global admin (TOPGUN_ADMIN_SUBJECTS) manage any namespace", async () => {
    const token = await idp.sign({ ...valid("tenant-a", "root") });
    expect((await adminCall(server.url, "/api/admin/policies", { method: "POST", body: { id: "g", ...policy }, namespace: "tenant-c", token })).status).toBe(201);
    expect((await adminCall(server.url, "/api/admin/policies/g", { namespace: "tenant-c", token })).status).toBe(200);
  });

  it("refuses admin calls with a token of another issuer", async () => {
    const token = await idp.sign({ ...valid("tenant-a", "ops-a"), roles: ["admin"], iss: "https://evil.test" });
    expect((await adminCall(server.url, "/api/admin/policies", { namespace: "tenant-a", token })).status).toBe(401);
  });
});
