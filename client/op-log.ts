import type { ClientOp } from "../core/protocol/shared.ts";
import type { PendingOp } from "./storage/storage-adapter.ts";

/**
 * Ops the server has not acknowledged, in write order. Each op goes out once per connection: `takeUnsent`
 * hands over only ops after the last one sent, and a new connection starts again from the oldest pending.
 */
export class OpLog {
  #pending: PendingOp[] = [];
  #nextSeq = 1;
  #sentThrough = 0;

  /** Restores the log from storage; `seq` continues after the highest stored one or `lastSeq`. */
  restore(ops: readonly PendingOp[], lastSeq: number): void {
    this.#pending = [...ops];
    const highest = ops.at(-1)?.seq ?? 0;
    this.#nextSeq = Math.max(highest, lastSeq) + 1;
  }

  /** Numbers a new op; it becomes sendable once {@link add}ed (after it is stored). */
  create(op: Omit<ClientOp, "id">): PendingOp {
    const seq = this.#nextSeq++;
    return { seq, op: { ...op, id: String(seq) } };
  }

  /** The last seq handed out; persisted so seqs never repeat after a reload. */
  get lastSeq(): number {
    return this.#nextSeq - 1;
  }

  /** Adds stored ops; they are in seq order and newer than every pending op. */
  add(ops: readonly PendingOp[]): void {
    this.#pending.push(...ops);
  }

  /** Every pending op, oldest first. */
  pending(): readonly PendingOp[] {
    return this.#pending;
  }

  get size(): number {
    return this.#pending.length;
  }

  /** Pending ops not yet sent on this connection, marked as sent. */
  takeUnsent(): PendingOp[] {
    const unsent = this.#pending.filter((pending) => pending.seq > this.#sentThrough);
    const last = unsent.at(-1);
    if (last !== undefined) this.#sentThrough = last.seq;
    return unsent;
  }

  /** Forgets what was sent: the next connection re-sends every pending op. */
  resetConnection(): void {
    this.#sentThrough = 0;
  }

  /**
   * Drops the ops an OP_ACK covers: numeric `lastId` covers every op up to it, anything else every op
   * sent so far (PROTOCOL.md §3 row 8). Returns the dropped ops, oldest first (empty if none).
   */
  acknowledge(lastId: string): PendingOp[] {
    const numeric = /^\d+$/.test(lastId) ? Number(lastId) : this.#sentThrough;
    const through = Math.min(numeric, this.#sentThrough);
    const acknowledged = this.#pending.filter((pending) => pending.seq <= through);
    if (acknowledged.length > 0) this.#pending = this.#pending.filter((pending) => pending.seq > through);
    return acknowledged;
  }
}
