import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import { LWWMap } from "../../core/lww-map.ts";
import { clientPool, serverUrl, uniqueName } from "../support/e2e-context.ts";
import { clientSync } from "../support/merkle-sync-client.ts";
import { startServer, type RunningServer } from "../support/server-harness.ts";
import { signToken } from "../support/tokens.ts";
import { lwwPut, TestClient } from "../support/ws-client.ts";

const clients = clientPool();

describe("handshake", () => {
  it("sends AUTH_REQUIRED as the first frame", async () => {
    const client = await clients.raw();
    await client.waitFor("AUTH_REQUIRED");
    expect(client.history[0]?.type).toBe("AUTH_REQUIRED");
  });

  it("acknowledges a valid token with AUTH_ACK whose userId is the token's sub", async () => {
    const client = await clients.raw();
    const answer = await client.authenticate(await signToken({ sub: "alice-e2e" }));
    expect(answer).toEqual({ type: "AUTH_ACK", userId: "alice-e2e" });
  });

  it("answers a token signed with another secret with AUTH_FAIL and closes the socket", async () => {
    const client = await clients.raw();
    const answer = await client.authenticate(await signToken({ sub: "mallory", secret: "not-the-secret" }));
    expect(answer.type).toBe("AUTH_FAIL");
    expect(answer.type === "AUTH_FAIL" && answer.error).toBeTruthy();
    await client.waitForClose();
  });

  it("answers an expired token with AUTH_FAIL", async () => {
    const client = await clients.raw();
    const twoMinutesAgo = Math.floor(Date.now() / 1000) - 120; // beyond the 60 s leeway
    const answer = await client.authenticate(await signToken({ sub: "late", expiresIn: twoMinutesAgo }));
    expect(answer.type).toBe("AUTH_FAIL");
  });

  it("answers AUTH without a token with AUTH_FAIL", async () => {
    const client = await clients.raw();
    const answer = await client.authenticate(undefined);
    expect(answer.type).toBe("AUTH_FAIL");
  });

  it("answers AUTH with an empty token with AUTH_FAIL", async () => {
    const client = await clients.raw();
    const answer = await client.authenticate("");
    expect(answer.type).toBe("AUTH_FAIL");
  });

  it("drops messages sent before authentication without replying or applying them", async () => {
    const map = uniqueName("preauth");
    const client = await clients.raw();
    await client.waitFor("AUTH_REQUIRED");
    client.sendOp(lwwPut(map, "k", "sneaky", new HLC("preauth").now()));
    client.send({ type: "SYNC_INIT", mapName: map });
    await client.barrier(); // PING is answered before authentication, in order after the frames above
    expect(client.history.map((f) => f.type)).toEqual(["AUTH_REQUIRED", "PONG"]);

    const answer = await client.authenticate(await signToken({ sub: "late-auth" }));
    expect(answer.type).toBe("AUTH_ACK");
    const sync = await clientSync(client, map, new LWWMap(new HLC("reader")));
    expect(sync.serverRoot).toBe(0);
  });

  it("tolerates a repeated AUTH and sends exactly one AUTH_ACK", async () => {
    const client = await clients.raw();
    const token = await signToken({ sub: "twice" });
    await client.authenticate(token);
    client.send({ type: "AUTH", token });
    await client.barrier();
    expect(client.collect("AUTH_ACK")).toHaveLength(1);
    expect(client.collect("AUTH_FAIL")).toHaveLength(0);
    expect(client.isClosed).toBe(false);
  });

  it("accepts the WebSocket upgrade at / as well as /ws", async () => {
    const client = await TestClient.connect(`${serverUrl().replace(/^http/, "ws")}/`, { autoAuth: false });
    try {
      const answer = await client.authenticate(await signToken({ sub: "root-path" }));
      expect(answer).toEqual({ type: "AUTH_ACK", userId: "root-path" });
    } finally {
      client.close();
    }
  });

  it("answers PING with PONG echoing the timestamp and carrying the server time", async () => {
    const client = await clients.authed();
    const before = Date.now();
    client.send({ type: "PING", timestamp: 1234567 });
    const pong = await client.waitFor("PONG");
    const after = Date.now();
    expect(pong.timestamp).toBe(1234567);
    // Same machine: the server clock agrees with ours within a generous margin.
    expect(pong.serverTime).toBeGreaterThanOrEqual(before - 5_000);
    expect(pong.serverTime).toBeLessThanOrEqual(after + 5_000);
  });
});

describe("no-auth mode", () => {
  let server: RunningServer;
  const noAuthClients = clientPool(() => server.url);

  beforeAll(async () => {
    server = await startServer({ noAuth: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("acknowledges AUTH without a token", async () => {
    const client = await noAuthClients.raw();
    const answer = await client.authenticate(undefined);
    expect(answer.type).toBe("AUTH_ACK");
  });
});

describe("HTTP routes", () => {
  it("answers GET /health with JSON {ok:true}", async () => {
    const response = await fetch(`${serverUrl()}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    expect(await response.json()).toMatchObject({ ok: true });
  });

  it("answers an unknown route with a JSON 404", async () => {
    const response = await fetch(`${serverUrl()}/no-such-route`);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    expect(await response.json()).toBeTypeOf("object");
  });
});
