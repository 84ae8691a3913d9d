// A minimal TopGun wire client for end-to-end tests: one msgpack message per binary frame, an inbox of decoded
// server messages (validated against core's server schemas), and waits that fail with a clear message.
import { decodeMessage, encodeMessage } from "../../core/codec.ts";
import type { AuthAckMessage, AuthFailMessage } from "../../core/protocol/auth.ts";
import { parseServerMessage, type ServerMessage, type ServerMessageType } from "../../core/protocol/message.ts";
import type { ClientOp, ORMapRecord, Timestamp, WriteConcern } from "../../core/protocol/shared.ts";

export type MessageOf<T extends ServerMessageType> = Extract<ServerMessage, { type: T }>;

export interface WaitOptions {
  /** Default 5000 ms. */
  timeoutMs?: number;
  /** Says what is awaited in the timeout error (a predicate has no name of its own). */
  description?: string;
}

/** One received frame: the decoded message (undefined when it failed the schema), its raw form and size. */
export interface ReceivedFrame {
  type: string;
  raw: unknown;
  message: ServerMessage | undefined;
  problem: string | undefined;
  bytes: number;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

interface Waiter {
  matches(frame: ReceivedFrame): boolean;
  settle(frame: ReceivedFrame): void;
  fail(error: Error): void;
}

const DEFAULT_TIMEOUT_MS = 5_000;
/** Opening a socket may wait behind a burst of work in the server (e.g. a test that woke all 271 partitions). */
const OPEN_TIMEOUT_MS = 15_000;
const RECENT_TYPES_SHOWN = 20;

export class TestClient {
  readonly #ws: WebSocket;
  readonly #history: ReceivedFrame[] = [];
  readonly #inbox: ReceivedFrame[] = [];
  readonly #waiters = new Set<Waiter>();
  readonly #bytes = new WeakMap<object, number>();
  readonly #closed: Promise<CloseInfo>;
  #closeInfo: CloseInfo | undefined;
  #pingSeq = 0;
  #bytesReceived = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.binaryType = "arraybuffer";
    ws.addEventListener("message", (event: MessageEvent) => this.#receive(event.data));
    this.#closed = new Promise((resolve) => {
      ws.addEventListener("close", (event: CloseEvent) => {
        this.#closeInfo = { code: event.code, reason: event.reason };
        for (const waiter of this.#waiters) {
          waiter.fail(new Error(`socket closed (code ${event.code} ${event.reason}) while waiting; ${this.#recentTypes()}`));
        }
        this.#waiters.clear();
        resolve(this.#closeInfo);
      });
    });
  }

  /**
   * Opens a socket. With a `token` the client authenticates at once (unless `autoAuth` is false) and the
   * promise rejects on AUTH_FAIL; with `autoAuth: true` and no token it sends AUTH without a token.
   */
  static async connect(wsUrl: string, options: { token?: string; autoAuth?: boolean; timeoutMs?: number } = {}): Promise<TestClient> {
    const ws = new WebSocket(wsUrl);
    const client = new TestClient(ws);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const openTimeoutMs = Math.max(timeoutMs, OPEN_TIMEOUT_MS);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`WebSocket ${wsUrl} did not open within ${openTimeoutMs} ms`)), openTimeoutMs);
      ws.addEventListener("open", () => {
        clearTimeout(timer);
        resolve();
      });
      ws.addEventListener("error", () => {
        clearTimeout(timer);
        reject(new Error(`WebSocket ${wsUrl} failed to open`));
      });
    });
    if (options.autoAuth ?? options.token !== undefined) {
      const answer = await client.authenticate(options.token);
      if (answer.type === "AUTH_FAIL") throw new Error(`authentication failed: ${answer.error ?? "(no error text)"}`);
    }
    return client;
  }

  /** Every frame received so far, in order (consumed or not). */
  get history(): readonly ReceivedFrame[] {
    return this.#history;
  }

  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  get isClosed(): boolean {
    return this.#closeInfo !== undefined;
  }

  send(message: unknown): void {
    this.#ws.send(encodeMessage(message));
  }

  sendRaw(data: Uint8Array | string): void {
    this.#ws.send(data);
  }

  /** Waits for AUTH_REQUIRED, sends AUTH, and answers the AUTH_ACK or AUTH_FAIL that follows. */
  async authenticate(token?: string, options: WaitOptions = {}): Promise<AuthAckMessage | AuthFailMessage> {
    // The first frame; a test may already have taken it from the inbox.
    if (!this.#history.some((frame) => frame.type === "AUTH_REQUIRED")) await this.waitFor("AUTH_REQUIRED", options);
    this.send(token === undefined ? { type: "AUTH" } : { type: "AUTH", token });
    const answer = await this.waitFor(
      (m): m is AuthAckMessage | AuthFailMessage => m.type === "AUTH_ACK" || m.type === "AUTH_FAIL",
      { description: "AUTH_ACK or AUTH_FAIL", ...options },
    );
    return answer;
  }

  /**
   * Takes the first not yet consumed message that matches out of the inbox, waiting for it if needed. A type
   * waits for that type (and `where`, if given); a predicate sees every validated message.
   */
  waitFor<T extends ServerMessageType>(
    type: T,
    options?: WaitOptions & { where?: (message: MessageOf<T>) => boolean },
  ): Promise<MessageOf<T>>;
  waitFor<M extends ServerMessage>(predicate: (message: ServerMessage) => message is M, options?: WaitOptions): Promise<M>;
  waitFor(predicate: (message: ServerMessage) => boolean, options?: WaitOptions): Promise<ServerMessage>;
  async waitFor(
    what: ServerMessageType | ((message: ServerMessage) => boolean),
    options: WaitOptions & { where?: (message: ServerMessage) => boolean } = {},
  ): Promise<ServerMessage> {
    const description = options.description ?? (typeof what === "string" ? what : "a message matching the predicate");
    const matches = (frame: ReceivedFrame): boolean => {
      if (typeof what === "string") {
        if (frame.type !== what) return false;
        // A message of the awaited type that fails its schema is a server bug: report it instead of timing out.
        if (frame.message === undefined) return true;
        return options.where === undefined || options.where(frame.message);
      }
      return frame.message !== undefined && what(frame.message);
    };
    const frame = await this.#take(matches, description, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    if (frame.message === undefined) {
      throw new Error(`server sent an invalid ${frame.type}: ${frame.problem ?? "?"}; raw: ${preview(frame.raw)}`);
    }
    return frame.message;
  }

  /** Waits until the server closes the socket (or it is closed here). */
  waitForClose(options: WaitOptions = {}): Promise<CloseInfo> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`socket was not closed within ${timeoutMs} ms; ${this.#recentTypes()}`)),
        timeoutMs,
      );
      void this.#closed.then((info) => {
        clearTimeout(timer);
        resolve(info);
      });
    });
  }

  /** Every validated message of `type` received so far (consumed or not). */
  collect<T extends ServerMessageType>(type: T): MessageOf<T>[] {
    const out: MessageOf<T>[] = [];
    for (const frame of this.#history) {
      if (frame.message !== undefined && isType(frame.message, type)) out.push(frame.message);
    }
    return out;
  }

  /** The size in bytes of the frame a message arrived in. */
  frameBytes(message: ServerMessage): number {
    return this.#bytes.get(message) ?? 0;
  }

  /** The message as decoded, before schema validation (which drops unknown keys and reads nil as absent). */
  rawOf(message: ServerMessage): unknown {
    return this.#history.find((frame) => frame.message === message)?.raw;
  }

  /**
   * A round trip on this connection (PING, then its PONG). The server handles one connection's frames in
   * order, so every reply to what was sent before has arrived once this resolves.
   */
  async barrier(options: WaitOptions = {}): Promise<void> {
    const timestamp = Date.now() * 1000 + (this.#pingSeq++ % 1000);
    this.send({ type: "PING", timestamp });
    await this.waitFor("PONG", { description: `PONG for PING ${timestamp}`, ...options, where: (m) => m.timestamp === timestamp });
  }

  /** Sends one op as CLIENT_OP. */
  sendOp(op: ClientOp): void {
    this.send({ type: "CLIENT_OP", payload: op });
  }

  sendBatch(ops: readonly ClientOp[], options: { writeConcern?: WriteConcern } = {}): void {
    this.send({ type: "OP_BATCH", payload: { ops, ...(options.writeConcern ? { writeConcern: options.writeConcern } : {}) } });
  }

  /** Sends ops as one OP_BATCH and waits for its OP_ACK (matched by the last op's id). */
  async write(ops: readonly ClientOp[], options: WaitOptions & { writeConcern?: WriteConcern } = {}): Promise<MessageOf<"OP_ACK">> {
    const lastId = ops.at(-1)?.id;
    if (lastId === undefined || lastId === null) throw new Error("write() needs ops with ids");
    this.sendBatch(ops, options);
    return this.waitFor("OP_ACK", { description: `OP_ACK for ${lastId}`, ...options, where: (m) => m.payload.lastId === lastId });
  }

  close(): void {
    if (this.#closeInfo === undefined) this.#ws.close();
  }

  #take(matches: (frame: ReceivedFrame) => boolean, description: string, timeoutMs: number): Promise<ReceivedFrame> {
    const index = this.#inbox.findIndex(matches);
    if (index >= 0) return Promise.resolve(this.#inbox.splice(index, 1)[0] as ReceivedFrame);
    if (this.#closeInfo) {
      return Promise.reject(new Error(`socket is closed (code ${this.#closeInfo.code}); no ${description}; ${this.#recentTypes()}`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${description}; ${this.#recentTypes()}`));
      }, timeoutMs);
      const waiter: Waiter = {
        matches,
        settle: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
        fail: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#waiters.add(waiter);
    });
  }

  #receive(data: unknown): void {
    const frame = decodeFrame(data);
    this.#bytesReceived += frame.bytes;
    if (frame.message !== undefined) this.#bytes.set(frame.message, frame.bytes);
    this.#history.push(frame);
    for (const waiter of this.#waiters) {
      if (waiter.matches(frame)) {
        this.#waiters.delete(waiter);
        waiter.settle(frame);
        return;
      }
    }
    this.#inbox.push(frame);
  }

  #recentTypes(): string {
    const recent = this.#history.slice(-RECENT_TYPES_SHOWN).map((f) => (f.type === "ERROR" ? `ERROR(${preview(f.raw)})` : f.type));
    return `received ${this.#history.length} frames, the last ${recent.length}: [${recent.join(", ")}]`;
  }
}

function decodeFrame(data: unknown): ReceivedFrame {
  if (typeof data === "string") {
    return { type: "(text frame)", raw: data, message: undefined, problem: "server sent a text frame", bytes: data.length };
  }
  if (!(data instanceof ArrayBuffer)) {
    return { type: "(unknown frame)", raw: data, message: undefined, problem: "not an ArrayBuffer", bytes: 0 };
  }
  const bytes = data.byteLength;
  let raw: unknown;
  try {
    raw = decodeMessage(new Uint8Array(data));
  } catch (err) {
    return { type: "(undecodable)", raw: data, message: undefined, problem: String(err), bytes };
  }
  const type = typeof raw === "object" && raw !== null && "type" in raw && typeof raw.type === "string" ? raw.type : "(no type)";
  const parsed = parseServerMessage(raw);
  if (parsed.ok) return { type, raw, message: parsed.message, problem: undefined, bytes };
  const problem = "error" in parsed ? parsed.error.message : `ignored type ${parsed.type}`;
  return { type, raw, message: undefined, problem, bytes };
}

function isType<T extends ServerMessageType>(message: ServerMessage, type: T): message is MessageOf<T> {
  return message.type === type;
}

function preview(value: unknown): string {
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? String(v) : v));
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    // Not JSON-representable (cycles cannot come out of msgpack, but be safe in an error path).
    return String(value);
  }
}

// --- op builders (ClientOp shapes of PROTOCOL.md §3.1) --------------------------------------------------

let opSequence = 0;

/** A unique op id for this test process. */
export function nextOpId(prefix = "op"): string {
  opSequence += 1;
  return `${prefix}-${process.pid}-${opSequence}`;
}

export interface OpOptions {
  id?: string;
  writeConcern?: WriteConcern;
}

function opBase(mapName: string, key: string, options: OpOptions) {
  return {
    id: options.id ?? nextOpId(),
    mapName,
    key,
    ...(options.writeConcern ? { writeConcern: options.writeConcern } : {}),
  };
}

export function lwwPut(mapName: string, key: string, value: unknown, timestamp: Timestamp, options: OpOptions = {}): ClientOp {
  return { ...opBase(mapName, key, options), opType: "PUT", record: { value, timestamp } };
}

/** A REMOVE carrying its tombstone timestamp. */
export function lwwRemove(mapName: string, key: string, timestamp: Timestamp, options: OpOptions = {}): ClientOp {
  return { ...opBase(mapName, key, options), opType: "REMOVE", record: { value: null, timestamp } };
}

export function orAdd(mapName: string, key: string, record: ORMapRecord, options: OpOptions = {}): ClientOp {
  return { ...opBase(mapName, key, options), opType: "OR_ADD", orRecord: record };
}

export function orRemove(mapName: string, key: string, tag: string, options: OpOptions = {}): ClientOp {
  return { ...opBase(mapName, key, options), opType: "OR_REMOVE", orTag: tag };
}
