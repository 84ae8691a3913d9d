import { SignJWT } from "jose";
import { ALLOW_ALL } from "../../core/access-policy.ts";
import { describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage } from "../../core/codec.ts";
import { MAX_BATCH_ITEMS, MAX_NESTING_DEPTH } from "../../core/limits.ts";
import type { ClientOp } from "../../core/protocol/shared.ts";
import { createAuthenticator } from "./authenticator.ts";
import type { Connection, ConnectionState } from "./connection.ts";
import type { Handlers } from "./dispatch.ts";
import { Session } from "./session.ts";
import { opRateOf, type OpRate } from "./op-budget.ts";
import { inboundBatch as batch } from "../../test/support/inbound-batch.ts";

const SECRET = "session-test-secret";

/** A session over a fake socket whose handlers record the ops they were asked to write. */
function setup(options: { namespace?: string; namespaceClaim?: string; opRate?: OpRate } = {}) {
  const clock = { now: 1_000_000 };
  const written: string[] = [];
  const handlers = {
    access: { forPrincipal: async () => () => ALLOW_ALL },
    writes: { begin: async (_conn: string, ops: ClientOp[]) => ({ done: Promise.resolve(void written.push(...ops.map((op) => op.key))) }) },
    connectionClosed: async () => {},
  } as unknown as Handlers;
  const session = new Session({
    auth: createAuthenticator({ noAuth: false, secret: SECRET }),
    handlers,
    home: 0,
    namespace: options.namespace ?? "default",
    namespaceClaim: options.namespaceClaim,
    clock: () => clock.now,
    ...(options.opRate ? { opRate: options.opRate } : {}),
  });
  const sent: Record<string, unknown>[] = [];
  const closes: number[] = [];
  let state: ConnectionState = { id: "c1", authenticated: false, acked: false };
  const conn: Connection = {
    get state() {
      return state;
    },
    update: (next) => void (state = next),
    send: (frame) => void sent.push(asRecord(decodeMessage(frame))),
    close: (code) => void closes.push(code),
  };
  session.opened(conn);
  const receive = (message: unknown) => session.received(conn, message instanceof Uint8Array ? message : encodeMessage(message));
  const authenticate = async (claims: Record<string, unknown> = {}) => receive({ type: "AUTH", token: await token(claims) });
  const errors = () => sent.filter((m) => m.type === "ERROR").map((m) => m.payload);
  return { clock, written, sent, closes, receive, authenticate, errors };
}

function asRecord(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null) throw new Error("expected a map");
  return { ...value };
}

function token(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setSubject("u1").setExpirationTime("1h").sign(new TextEncoder().encode(SECRET));
}

const put = (key: string): ClientOp => ({ id: `op-${key}`, mapName: "m", key, record: { value: 1, timestamp: { millis: 1, counter: 0, nodeId: "n" } } });
const clientOp = (key: string) => ({ type: "CLIENT_OP", payload: put(key) });
const opBatch = (keys: string[]) => ({ type: "OP_BATCH", payload: { ops: keys.map(put) } });

/** A CLIENT_OP whose value nests `levels` arrays deep (the frame itself adds 4 levels of maps). */
function deepClientOp(key: string, levels: number): Uint8Array {
  const value: unknown[] = [];
  let inner = value;
  for (let i = 1; i < levels; i++) {
    const next: unknown[] = [];
    inner.push(next);
    inner = next;
  }
  inner.push(1);
  return encodeMessage({ type: "CLIENT_OP", payload: { ...put(key), record: { value, timestamp: { millis: 1, counter: 0, nodeId: "n" } } } });
}

describe("Session nesting limit", () => {
  it("answers a frame nested deeper than 256 levels with ERROR 400 and keeps handling the connection", async () => {
    const s = setup();
    await s.authenticate();
    await s.receive(deepClientOp("deep", MAX_NESTING_DEPTH));
    await s.receive(clientOp("next"));
    expect(s.errors()).toEqual([{ code: 400, message: "frame nests deeper than 256 levels" }]);
    expect(s.written).toEqual(["next"]);
  });

  it("accepts a frame nested exactly 256 levels deep", async () => {
    const s = setup();
    await s.authenticate();
    await s.receive(deepClientOp("deep", MAX_NESTING_DEPTH - 4));
    expect(s.errors()).toEqual([]);
    expect(s.written).toEqual(["deep"]);
  });

  it("drops a too-deep frame before authentication without a reply, and AUTH still works", async () => {
    const s = setup();
    await s.receive(new Uint8Array(100_001).fill(0x91, 0, 100_000)); // [[[...0...]]], 100,000 levels
    await s.authenticate();
    expect(s.sent.map((m) => m.type)).toEqual(["AUTH_REQUIRED", "AUTH_ACK"]);
  });

  it("skips a too-deep BATCH item with ERROR and handles the items after it", async () => {
    const s = setup();
    await s.authenticate();
    await s.receive(batch([encodeMessage(clientOp("first")), deepClientOp("deep", 300), encodeMessage(clientOp("last"))]));
    expect(s.errors()).toEqual([{ code: 400, message: "frame nests deeper than 256 levels" }]);
    expect(s.written).toEqual(["first", "last"]);
  });
});

describe("Session BATCH item limit", () => {
  it("drops a BATCH of more than 8,192 items whole with ERROR 413", async () => {
    const s = setup();
    await s.authenticate();
    const item = encodeMessage(clientOp("k"));
    await s.receive(batch(new Array<Uint8Array>(MAX_BATCH_ITEMS + 1).fill(item)));
    expect(s.errors()).toEqual([{ code: 413, message: "batch exceeds maximum inner item count" }]);
    expect(s.written).toEqual([]);
  });

  it("handles a BATCH of exactly 8,192 items", async () => {
    const s = setup();
    await s.authenticate();
    await s.receive(batch(new Array<Uint8Array>(MAX_BATCH_ITEMS).fill(encodeMessage(clientOp("k")))));
    expect(s.errors()).toEqual([]);
    expect(s.written).toHaveLength(MAX_BATCH_ITEMS);
  });
});

describe("Session op budget", () => {
  const keys = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

  it("answers 429 and applies nothing of an OP_BATCH the budget cannot pay, then accepts it after the refill", async () => {
    const s = setup();
    await s.authenticate();
    for (let i = 0; i < 20; i++) await s.receive(opBatch(keys(`b${i}-`, 2000))); // 40,000: the whole burst
    await s.receive(opBatch(["over"]));
    expect(s.errors()).toEqual([{ code: 429, message: "rate limit exceeded, slow down" }]);
    expect(s.written).toHaveLength(40_000);
    expect(s.written).not.toContain("over");

    s.clock.now += 1; // 20 ops refill per millisecond
    await s.receive(opBatch(keys("again-", 20)));
    expect(s.written.slice(40_000)).toEqual(keys("again-", 20));
  });

  it("charges a BATCH one op per inner item, and its inner OP_BATCHes nothing more", async () => {
    const s = setup();
    await s.authenticate();
    const cheap = encodeMessage({ type: "PARTITION_MAP_REQUEST" });
    for (let i = 0; i < 4; i++) await s.receive(batch(new Array<Uint8Array>(MAX_BATCH_ITEMS).fill(cheap))); // 32,768
    await s.receive(batch([...new Array<Uint8Array>(7231).fill(cheap), encodeMessage(opBatch(keys("x", 3)))])); // 40,000
    expect(s.errors()).toEqual([]);
    expect(s.written).toEqual(keys("x", 3));
    await s.receive(clientOp("over"));
    expect(s.errors()).toEqual([{ code: 429, message: "rate limit exceeded, slow down" }]);
    expect(s.written).not.toContain("over");
  });

  it("follows TOPGUN_OP_RATE: a rate of its own with twice that burst, or no limit when off", async () => {
    const limited = setup({ opRate: opRateOf("500") });
    await limited.authenticate();
    await limited.receive(opBatch(keys("a", 1000)));
    await limited.receive(opBatch(["over"]));
    expect(limited.errors()).toEqual([{ code: 429, message: "rate limit exceeded, slow down" }]);

    const open = setup({ opRate: opRateOf("off") });
    await open.authenticate();
    for (let i = 0; i < 30; i++) await open.receive(opBatch(keys(`b${i}-`, 2000)));
    expect(open.errors()).toEqual([]);
    expect(open.written).toHaveLength(60_000);
  });

  it("refuses a TOPGUN_OP_RATE that is not a positive whole number or off", () => {
    expect(opRateOf(undefined)).toEqual({ ratePerSecond: 20_000, burst: 40_000 });
    for (const bad of ["-1", "1.5", "fast"]) expect(() => opRateOf(bad)).toThrow(/TOPGUN_OP_RATE/);
  });

  it("does not charge frames sent before authentication", async () => {
    const s = setup();
    for (let i = 0; i < 25; i++) await s.receive(opBatch(keys(`pre${i}-`, 2000)));
    await s.authenticate();
    for (let i = 0; i < 20; i++) await s.receive(opBatch(keys(`b${i}-`, 2000)));
    expect(s.errors()).toEqual([]);
    expect(s.written).toHaveLength(40_000);
  });
});

describe("Session tenancy", () => {
  it("accepts a token whose namespace claim names the home's namespace", async () => {
    const s = setup({ namespace: "tenant-a", namespaceClaim: "tenant" });
    await s.authenticate({ tenant: "tenant-a" });
    expect(s.sent.map((m) => m.type)).toEqual(["AUTH_REQUIRED", "AUTH_ACK"]);
  });

  it("refuses a token of another namespace with AUTH_FAIL and closes the socket", async () => {
    const s = setup({ namespace: "tenant-b", namespaceClaim: "tenant" });
    await s.authenticate({ tenant: "tenant-a" });
    await s.receive(clientOp("after"));
    expect(s.sent.map((m) => m.type)).toEqual(["AUTH_REQUIRED", "AUTH_FAIL"]);
    expect(s.closes).toEqual([1008]);
    expect(s.written).toEqual([]);
  });

  it("refuses a token without the namespace claim", async () => {
    const s = setup({ namespace: "default", namespaceClaim: "tenant" });
    await s.authenticate();
    expect(s.sent.map((m) => m.type)).toEqual(["AUTH_REQUIRED", "AUTH_FAIL"]);
  });
});
