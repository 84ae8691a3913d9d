import type { HLC } from "../../core/hlc.ts";
import { isStalePlacementError, partitionOf, type ShardConfig } from "../../core/placement.ts";
import { classifyOp, type ClientOp, type WriteConcern } from "../../core/protocol/shared.ts";
import type { ErrorKind } from "../../core/errors.ts";
import { errorCodeOf } from "../../core/errors.ts";
import { permits, type Access, type AccessRequest } from "../../core/access-policy.ts";
import { NO_SCHEMAS, type SchemaSet } from "../../core/map-schema.ts";
import type { OwnerOp, OwnerOpOutcome, WriteOwner } from "./owner-op.ts";

/** The access of the writer to a resource (the access guard, bound to the connection's principal). */
export type WriteAccess = (request: AccessRequest) => Access;

const ALLOW_EVERYTHING: WriteAccess = () => ({ kind: "all" });

/** How often a batch is placed again after an owner refused a stale placement (each time after a fresh copy). */
const PLACEMENT_ATTEMPTS = 3;

const LEVELS: readonly WriteConcern[] = ["FIRE_AND_FORGET", "MEMORY", "APPLIED", "REPLICATED", "PERSISTED"];
const rank = (level: WriteConcern) => LEVELS.indexOf(level);

/** The level an op reaches once its owner committed (DO storage is replicated); PERSISTED needs Postgres's commit. */
function levelAfterCommit(requested: WriteConcern): WriteConcern {
  return requested === "PERSISTED" ? "APPLIED" : rank(requested) < rank("APPLIED") ? "APPLIED" : requested;
}

interface Rejection {
  index: number;
  kind: ErrorKind;
  message: string;
}

/** Replies the coordinator sends on the writer's connection. */
export interface WriteReplies {
  send(message: unknown): void;
}

/**
 * Home role, write path: validates a batch, groups it by owner partition (one call per owner, none over the
 * network when the home owns the map), and answers OP_REJECTED / OP_ACK as PROTOCOL.md Part A says.
 */
export class WriteCoordinator {
  readonly #owners: (partition: number) => WriteOwner;
  readonly #shards: () => ShardConfig;
  readonly #hlc: HLC;
  readonly #home: number;

  readonly #counted: ((applied: number, rejected: number) => void) | undefined;
  readonly #refreshShards: () => Promise<void>;
  readonly #schemas: () => SchemaSet | Promise<SchemaSet>;

  constructor(deps: {
    owners: (partition: number) => WriteOwner;
    shards: () => ShardConfig;
    /** Refreshes the copy `shards` answers from, after an owner refused a stale placement. */
    refreshShards?: () => Promise<void>;
    hlc: HLC;
    home: number;
    /** Told how many ops of each acknowledged batch were applied and rejected (metrics). */
    counted?: (applied: number, rejected: number) => void;
    /** The namespace's map schemas (the partition's cached copy); none when absent. */
    schemas?: () => SchemaSet | Promise<SchemaSet>;
  }) {
    this.#schemas = deps.schemas ?? (() => NO_SCHEMAS);
    this.#counted = deps.counted;
    this.#owners = deps.owners;
    this.#shards = deps.shards;
    this.#refreshShards = deps.refreshShards ?? (async () => {});
    this.#hlc = deps.hlc;
    this.#home = deps.home;
  }

  /** Handles a batch to the end: placed, applied by its owners, and answered. */
  async write(...args: Parameters<WriteCoordinator["begin"]>): Promise<void> {
    await (await this.begin(...args)).done;
  }

  /**
   * Places a batch: checks every op and hands the allowed ones to their owners (each owner's queue takes them in the
   * order `begin` is called, so a connection's batches reach every owner in the order it sent them), and returns
   * while the owners apply them. `done` settles once the batch was answered (OP_ACK, OP_REJECTED or ERROR); it never
   * rejects. A connection can so have several batches in flight (objects/session/write-pipeline.ts).
   */
  async begin(
    conn: string,
    ops: readonly ClientOp[],
    batch: { writeConcern?: WriteConcern | undefined },
    replies: WriteReplies,
    access: WriteAccess = ALLOW_EVERYTHING,
  ): Promise<{ done: Promise<void> }> {
    let schemas: SchemaSet;
    try {
      schemas = await this.#schemas();
    } catch (err) {
      // Without a copy of the schemas nothing can be checked: nothing is applied, and without an OP_ACK the client resends.
      console.error(`[home p${this.#home}] no map schemas could be read; refusing the batch for now`, err);
      replies.send({ type: "ERROR", payload: { code: errorCodeOf("UNAVAILABLE"), message: "map schemas unavailable; resend" } });
      return { done: Promise.resolve() };
    }
    const levels = ops.map((op) => op.writeConcern ?? batch.writeConcern);
    const wantsResults = levels.some((level) => level !== undefined);
    const rejections: Rejection[] = [];
    const allowed: OwnerOp[] = [];
    let forbiddenMap: string | undefined;
    ops.forEach((op, index) => {
      const prepared = conform(this.#authorize(this.#prepare(op, index), access), schemas);
      if ("rejected" in prepared) {
        rejections.push(prepared.rejected);
        if (prepared.rejected.kind === "FORBIDDEN") forbiddenMap ??= op.mapName;
        return;
      }
      allowed.push(prepared);
    });
    // A denial is announced before anything the batch causes (PROTOCOL-NEXT.md §5.4, Edge rule).
    if (forbiddenMap !== undefined) {
      replies.send({ type: "ERROR", payload: { code: errorCodeOf("FORBIDDEN"), message: forbiddenWriteMessage(forbiddenMap) } });
    }
    const ackEarly = ops.length > 0 && levels.every((level) => level !== undefined && rank(level) <= rank("MEMORY"));
    const ack = (outcomes: Rejection[], achieved: (index: number) => WriteConcern) =>
      this.#acknowledge(ops, levels, wantsResults, outcomes, achieved, replies);

    if (ackEarly) {
      ack(rejections, (index) => levels[index] ?? "MEMORY");
      const applied = this.#applyAll(conn, allowed).then(
        () => {},
        (err: unknown) => console.error("[home] early-acked write failed", err),
      );
      return { done: applied };
    }
    const answered = this.#applyAll(conn, allowed, levels.includes("PERSISTED")).then(
      (outcomes) => {
        const persisted = new Set<number>();
        for (const outcome of outcomes) {
          if (!outcome.ok) rejections.push({ index: outcome.index, kind: outcome.kind, message: outcome.message });
          else if (outcome.persisted) persisted.add(outcome.index);
        }
        ack(rejections, (index) => (persisted.has(index) && levels[index] === "PERSISTED" ? "PERSISTED" : levelAfterCommit(levels[index] ?? "APPLIED")));
      },
      (err: unknown) => {
        // No OP_ACK: the client keeps the ops pending and sends them again; merges are idempotent.
        console.error(`[home p${this.#home}] write failed`, err);
        replies.send({ type: "ERROR", payload: { code: errorCodeOf("UNAVAILABLE"), message: "write failed; resend" } });
      },
    );
    return { done: answered.catch((err: unknown) => console.error(`[home p${this.#home}] answering a write failed`, err)) };
  }

  /**
   * Sends each owner its ops. An owner that refuses a stale placement (the map was resharded and this home's copy of
   * the shard counts is behind) applied nothing of its request; the home refreshes its copy and places the batch
   * again. Owners that did apply see their ops again, which merges as a no-op.
   */
  async #applyAll(conn: string, ops: readonly OwnerOp[], persist = false): Promise<OwnerOpOutcome[]> {
    const writer = { home: this.#home, conn };
    for (let attempt = 1; ; attempt++) {
      try {
        const answers = await Promise.all(
          [...this.#byOwner(ops)].map(([partition, ownerOps]) => this.#owners(partition).apply({ ops: ownerOps, writer, ...(persist ? { persist } : {}) })),
        );
        return answers.flat();
      } catch (err) {
        if (attempt >= PLACEMENT_ATTEMPTS || !isStalePlacementError(err)) throw err;
        await this.#refreshShards();
      }
    }
  }

  #byOwner(ops: readonly OwnerOp[]): Map<number, OwnerOp[]> {
    const shards = this.#shards();
    const byOwner = new Map<number, OwnerOp[]>();
    for (const op of ops) {
      const owner = partitionOf(shards, op.map, op.key);
      const list = byOwner.get(owner);
      if (list) list.push(op);
      else byOwner.set(owner, [op]);
    }
    return byOwner;
  }

  #acknowledge(
    ops: readonly ClientOp[],
    levels: readonly (WriteConcern | undefined)[],
    wantsResults: boolean,
    rejections: readonly Rejection[],
    achieved: (index: number) => WriteConcern,
    replies: WriteReplies,
  ): void {
    const rejected = new Map(rejections.map((r) => [r.index, r]));
    this.#counted?.(ops.length - rejected.size, rejected.size);
    for (const r of rejections) {
      replies.send({ type: "OP_REJECTED", payload: { opId: ops[r.index]?.id ?? "unknown", reason: r.message, code: errorCodeOf(r.kind) } });
    }
    let lastId = "unknown";
    for (const op of ops) if (op.id !== undefined && op.id !== null) lastId = op.id;
    const payload: Record<string, unknown> = { lastId };
    if (wantsResults) {
      const results = ops.map((op, index) => {
        const rejection = rejected.get(index);
        return rejection
          ? { opId: op.id ?? String(index), success: false, achievedLevel: levels[index] ?? "APPLIED", error: rejection.message }
          : { opId: op.id ?? String(index), success: true, achievedLevel: achieved(index) };
      });
      payload.results = results;
      const reached = results.filter((r) => r.success).map((r) => r.achievedLevel);
      if (reached.length > 0) payload.achievedLevel = reached.reduce((low, level) => (rank(level) < rank(low) ? level : low));
    }
    replies.send({ type: "OP_ACK", payload });
  }

  /**
   * Applies the writer's access to a prepared op: denied, allowed, or (a record condition) allowed when the new
   * value passes, with the condition sent along as the owner's guard for the value it replaces.
   */
  #authorize(prepared: OwnerOp | { rejected: Rejection }, access: WriteAccess): OwnerOp | { rejected: Rejection } {
    if ("rejected" in prepared) return prepared;
    const removal = prepared.type === "REMOVE" || prepared.type === "OR_REMOVE";
    const granted = access({ action: "write", resource: prepared.map, removal });
    if (granted.kind === "all") return prepared;
    const forbidden = { rejected: { index: prepared.index, kind: "FORBIDDEN" as const, message: forbiddenWriteMessage(prepared.map) } };
    if (granted.kind === "none") return forbidden;
    switch (prepared.type) {
      case "PUT":
        return permits(granted, prepared.record.value, prepared.key) ? { ...prepared, guard: granted.filter } : forbidden;
      case "REMOVE":
        return { ...prepared, guard: granted.filter };
      case "OR_ADD":
        return permits(granted, prepared.record.value, prepared.key) ? prepared : forbidden;
      case "OR_REMOVE":
        return forbidden; // An OR-Map tag removal has no single value to check: conditional writes cannot remove tags.
    }
  }

  #prepare(op: ClientOp, index: number): OwnerOp | { rejected: Rejection } {
    const reject = (kind: ErrorKind, message: string) => ({ rejected: { index, kind, message } });
    const base = { index, map: op.mapName, key: op.key };
    switch (classifyOp(op)) {
      case "PUT": {
        if (!op.record) return reject("INVALID_MESSAGE", "a PUT needs a record");
        if (this.#hlc.isTooFarAhead(op.record.timestamp)) return reject("DRIFT", "timestamp too far ahead of the server clock");
        return { ...base, type: "PUT", record: stripTtl(op.record) };
      }
      case "REMOVE": {
        const timestamp = op.record?.timestamp ?? this.#hlc.now();
        if (this.#hlc.isTooFarAhead(timestamp)) return reject("DRIFT", "timestamp too far ahead of the server clock");
        return { ...base, type: "REMOVE", record: { value: null, timestamp } };
      }
      case "OR_ADD": {
        if (!op.orRecord) return reject("INVALID_MESSAGE", "an OR_ADD needs an orRecord");
        if (this.#hlc.isTooFarAhead(op.orRecord.timestamp)) return reject("DRIFT", "timestamp too far ahead of the server clock");
        return { ...base, type: "OR_ADD", record: stripTtl(op.orRecord) };
      }
      case "OR_REMOVE": {
        if (typeof op.orTag !== "string") return reject("INVALID_MESSAGE", "an OR_REMOVE needs an orTag");
        return { ...base, type: "OR_REMOVE", tag: op.orTag };
      }
    }
  }
}

/** Refuses a PUT or OR_ADD whose value breaks its map's schema (removals and tombstones carry no value to check). */
function conform(prepared: OwnerOp | { rejected: Rejection }, schemas: SchemaSet): OwnerOp | { rejected: Rejection } {
  if ("rejected" in prepared || (prepared.type !== "PUT" && prepared.type !== "OR_ADD")) return prepared;
  const violation = schemas.violation(prepared.map, prepared.record.value);
  return violation === undefined ? prepared : { rejected: { index: prepared.index, kind: "SCHEMA_VIOLATION", message: violation } };
}

/** Records never carry `ttlMs: null` (the TS client would hash ":ttl=null"): an absent ttl stays absent. */
function stripTtl<R extends { ttlMs?: number | null | undefined }>(record: R): R & { ttlMs?: number } {
  const { ttlMs, ...rest } = record;
  return (typeof ttlMs === "number" ? { ...rest, ttlMs } : rest) as R & { ttlMs?: number };
}

/** The message of a denied write (PROTOCOL-NEXT.md §5.4). */
export function forbiddenWriteMessage(map: string): string {
  return `forbidden: write access denied for map: ${map}`;
}
