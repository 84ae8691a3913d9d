// The runtime's floor under the sharded write path: one caller object keeps up to 16 calls in flight to 271 callee
// objects (as the home's owner-call coalescer does) and counts how many a second complete; the callees do nothing
// but what the mode names. Alarms: each callee arms its alarm at once and the alarm re-arms until `rounds` ran.
import { DurableObject } from "cloudflare:workers";
import { decodeMessage, encodeMessage } from "../../core/codec.ts";

interface Env {
  CALLEE: DurableObjectNamespace<Callee>;
  CALLER: DurableObjectNamespace<Caller>;
}

const OWNERS = 271;
/** Calls in flight at once, as the home's MAX_CALLS_IN_FLIGHT (`inFlight=` changes it). */
const IN_FLIGHT = 16;
/** Ops per owner call in the sharded bench (4,000 ops in flight over 271 owners). */
const OPS_PER_CALL = 14;

function opsOf(call: number) {
  return Array.from({ length: OPS_PER_CALL }, (_, i) => ({
    index: i,
    type: "PUT",
    map: "bench-sharded",
    key: `k${call % 10}-${(call * 31 + i) % 20_000}`,
    record: { value: { n: i, text: "benchmark value", ok: true }, timestamp: { millis: 1_764_000_000_000 + call, counter: i, nodeId: `bench-${call % 1000}` } },
  }));
}
const REQUEST = { requests: [{ ops: opsOf(1), writer: { home: 7, conn: "c-0123456789" } }] };
const ANSWER = [Array.from({ length: OPS_PER_CALL }, (_, index) => ({ index, ok: true }))];

export class Callee extends DurableObject<Env> {
  #alarms = 0;
  #rounds = 0;
  #ready = false;

  #init(): void {
    if (this.#ready) return;
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, body BLOB)");
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, body BLOB)");
    this.#ready = true;
  }
  async noop(): Promise<void> {}
  async objects(request: typeof REQUEST): Promise<typeof ANSWER> {
    return request.requests.length > 0 ? ANSWER : [];
  }
  /** The request without an answer, and an answer without a request: which half of the payload costs what. */
  async requestOnly(request: typeof REQUEST): Promise<void> {
    if (request.requests.length === 0) throw new Error("empty request");
  }
  async answerOnly(): Promise<typeof ANSWER> {
    return ANSWER;
  }
  async bytes(request: Uint8Array): Promise<Uint8Array> {
    const decoded = decodeMessage(request) as typeof REQUEST;
    return encodeMessage(decoded.requests.length > 0 ? ANSWER : []);
  }
  /**
   * The owner's fixed SQL: one transaction with `rows` one-row inserts (0: an empty transaction; 1: write log and
   * journal in one row; 2: a row each, as today), whose commit the runtime makes durable before the answer leaves.
   */
  async txn(request: typeof REQUEST, rows: number): Promise<typeof ANSWER> {
    this.#init();
    const body = encodeMessage(request.requests[0]?.ops ?? []);
    this.ctx.storage.transactionSync(() => {
      if (rows >= 1) this.ctx.storage.sql.exec("INSERT INTO log (body) VALUES (?)", body);
      if (rows >= 2) this.ctx.storage.sql.exec("INSERT INTO journal (body) VALUES (?)", body);
    });
    return ANSWER;
  }
  async arm(rounds: number): Promise<void> {
    this.#rounds = rounds;
    this.#alarms = 0;
    await this.ctx.storage.setAlarm(Date.now());
  }
  async alarmsRun(): Promise<number> {
    return this.#alarms;
  }
  override async alarm(): Promise<void> {
    this.#alarms++;
    if (this.#alarms < this.#rounds) await this.ctx.storage.setAlarm(Date.now());
  }
}

export class Caller extends DurableObject<Env> {
  async run(mode: string, calls: number, inFlight = IN_FLIGHT): Promise<{ calls: number; ms: number }> {
    const stubs = this.#stubs();
    const started = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < calls) {
        const call = next++;
        const stub = stubs[call % OWNERS]!;
        if (mode === "noop") await stub.noop();
        else if (mode === "objects") await stub.objects({ requests: [{ ops: opsOf(call), writer: REQUEST.requests[0]!.writer }] });
        else if (mode === "requestOnly") await stub.requestOnly({ requests: [{ ops: opsOf(call), writer: REQUEST.requests[0]!.writer }] });
        else if (mode === "answerOnly") await stub.answerOnly();
        else if (mode === "bytes") decodeMessage(await stub.bytes(encodeMessage({ requests: [{ ops: opsOf(call), writer: REQUEST.requests[0]!.writer }] })));
        else if (mode.startsWith("txn")) await stub.txn({ requests: [{ ops: opsOf(call), writer: REQUEST.requests[0]!.writer }] }, Number(mode.slice(3)));
        else throw new Error(`unknown mode ${mode}`);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    return { calls, ms: Date.now() - started };
  }

  /** Wakes every callee (the driver calls it before each measure, untimed). */
  async wake(): Promise<void> {
    await Promise.all(this.#stubs().map((stub) => stub.noop()));
  }

  #stubs() {
    this.#callees ??= Array.from({ length: OWNERS }, (_, i) => this.env.CALLEE.get(this.env.CALLEE.idFromName(`o${i}`)));
    return this.#callees;
  }
  #callees: DurableObjectStub<Callee>[] | undefined;

  async alarms(rounds: number): Promise<{ alarms: number; ms: number }> {
    const stubs = this.#stubs();
    const started = Date.now();
    await Promise.all(stubs.map((stub) => stub.arm(rounds)));
    for (;;) {
      const done = (await Promise.all(stubs.map((stub) => stub.alarmsRun()))).reduce((a, b) => a + b, 0);
      if (done >= rounds * OWNERS) return { alarms: done, ms: Date.now() - started };
      await scheduler.wait(20);
    }
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const caller = env.CALLER.get(env.CALLER.idFromName("caller"));
    if (url.pathname === "/wake") return Response.json(await caller.wake());
    if (url.pathname === "/run") return Response.json(await caller.run(url.searchParams.get("mode") ?? "noop", Number(url.searchParams.get("calls") ?? 2000), Number(url.searchParams.get("inFlight") ?? IN_FLIGHT)));
    if (url.pathname === "/alarms") return Response.json(await caller.alarms(Number(url.searchParams.get("rounds") ?? 5)));
    return Response.json({ ok: true });
  },
};
