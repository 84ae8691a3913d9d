import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Connection, type ConnectionState } from "./connection.ts";
import { FakeServer } from "./testing/fake-server.ts";

const backoff = { initialMs: 100, maxMs: 1_000, multiplier: 2, jitter: 0 };
const heartbeat = { intervalMs: 1_000, timeoutMs: 3_000 };

function connect(server: FakeServer) {
  const states: ConnectionState[] = [];
  const connection = new Connection({
    url: "ws://server.test/ws?clientId=c1",
    backoff,
    heartbeat,
    openSocket: server.factory,
    getToken: async () => "tok",
    handlers: { onAuthenticated: () => {}, onMessage: () => {}, onStateChange: (s) => states.push(s), onError: () => {} },
  });
  connection.start();
  return { connection, states };
}

async function authenticate(server: FakeServer): Promise<void> {
  const socket = server.accept();
  await vi.waitFor(() => expect(socket.sentOf("AUTH")).toHaveLength(1));
  socket.deliver({ type: "AUTH_ACK" });
}

describe("Connection", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reconnects on the backoff schedule while the server stays unreachable", () => {
    const server = new FakeServer();
    const { connection } = connect(server);
    const openedAt: number[] = [];
    const start = Date.now();

    for (let i = 0; i < 5; i++) {
      server.last.drop();
      vi.advanceTimersToNextTimer();
      openedAt.push(Date.now() - start);
    }
    connection.close();

    expect(openedAt).toEqual([100, 300, 700, 1_500, 2_500]);
  });

  it("retries on the backoff schedule after a connect that fails with an error and no close event", () => {
    const server = new FakeServer();
    const { connection, states } = connect(server);
    const start = Date.now();

    server.last.refuse();
    vi.advanceTimersToNextTimer();

    expect(server.sockets).toHaveLength(2);
    expect(Date.now() - start).toBe(100);
    expect(states).toEqual(["CONNECTING", "BACKOFF", "CONNECTING"]);
    connection.close();
  });

  it("starts the backoff over after a successful handshake", async () => {
    const server = new FakeServer();
    const { connection } = connect(server);
    server.last.drop();
    vi.advanceTimersToNextTimer();
    server.last.drop();
    vi.advanceTimersToNextTimer();
    await authenticate(server);
    const before = Date.now();

    server.last.drop();
    vi.advanceTimersToNextTimer();
    connection.close();

    expect(Date.now() - before).toBe(100);
  });

  it("sends PING every interval while the server answers", async () => {
    const server = new FakeServer();
    const { connection } = connect(server);
    await authenticate(server);
    const socket = server.last;

    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(heartbeat.intervalMs);
      socket.deliver({ type: "PONG", timestamp: 0, serverTime: 0 });
    }
    connection.close();

    expect(socket.sentOf("PING")).toHaveLength(3);
    expect(server.sockets).toHaveLength(1);
  });

  it("drops a silent socket after the heartbeat timeout and reconnects", async () => {
    const server = new FakeServer();
    const { connection, states } = connect(server);
    await authenticate(server);
    const silent = server.last;

    vi.advanceTimersByTime(heartbeat.timeoutMs + heartbeat.intervalMs);
    vi.advanceTimersByTime(backoff.initialMs);
    connection.close();

    expect(silent.closed).toBe(true);
    expect(server.sockets).toHaveLength(2);
    expect(states).toContain("BACKOFF");
  });

  it("gives up on a socket that neither opens nor closes within the heartbeat timeout", () => {
    const server = new FakeServer();
    const { connection } = connect(server);
    const hung = server.last;

    vi.advanceTimersByTime(heartbeat.timeoutMs + backoff.initialMs);
    connection.close();

    expect(hung.closed).toBe(true);
    expect(server.sockets).toHaveLength(2);
  });

  it("reconnects at once on the online event instead of waiting out the backoff", () => {
    const target = new EventTarget();
    vi.stubGlobal("addEventListener", target.addEventListener.bind(target));
    vi.stubGlobal("removeEventListener", target.removeEventListener.bind(target));
    try {
      const server = new FakeServer();
      const { connection } = connect(server);
      server.last.drop();
      for (let i = 0; i < 4; i++) {
        vi.advanceTimersToNextTimer();
        server.last.drop();
      }
      const socketsBefore = server.sockets.length;

      target.dispatchEvent(new Event("online"));
      connection.close();

      expect(server.sockets).toHaveLength(socketsBefore + 1);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
