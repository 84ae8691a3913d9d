import type { HLC, Timestamp } from "../../core/hlc.ts";
import type { EventFanout } from "../delivery/event-fanout.ts";
import type { Outbox } from "../persistence/outbox.ts";
import type { ChangeRow } from "../persistence/postgres-sink.ts";
import type { LwwStore } from "../writes/lww-store.ts";
import type { OrStore } from "../writes/or-store.ts";
import type { OwnerOp } from "../writes/owner-op.ts";
import type { SqlPort } from "../storage/sql-port.ts";

/** Records expired, and tombstones pruned, per kind per sweep: one sweep stays in the tens of ms. */
export const SWEEP_CHUNK = 500;
/** How soon after an OR-Map write the alarm looks for work (an LWW write's compaction wakes it anyway). */
const OR_WRITE_WAKE_DELAY_MS = 2_000;

/** What one prune step did: the maps whose tombstones went (per tree), the outbox rows it queued, whether more are due. */
export interface Pruned {
  maps: { map: string; tree: "lww" | "or" }[];
  /** The time tombstones older than which are gone (what GC_PRUNE tells clients). */
  olderThan: Timestamp;
  queued: number;
  more: boolean;
}

/**
 * Owner role, the alarm's sweep of time: records whose TTL ran out become deletes (`expiredOps`: LWW REMOVE and
 * OR_REMOVE ops the owner applies and publishes as any write, so they are journaled as DELETE, leave live queries
 * and search subscriptions, reach synced clients and Postgres), and tombstones older than the horizon are pruned
 * (`prune`: from SQLite, the Merkle sums and, through the outbox, Postgres), each in bounded chunks. `scheduleNext`
 * asks for the alarm when the next record expires or tombstone comes of age.
 */
export class ExpirySweep {
  readonly #sql: SqlPort;
  readonly #lww: LwwStore;
  readonly #or: OrStore;
  readonly #hlc: HLC;
  readonly #outbox: Outbox | undefined;
  readonly #fanout: EventFanout;
  readonly #horizonMs: number;
  readonly #clock: () => number;
  readonly #wakeAt: (atMs: number) => Promise<void>;
  readonly #chunk: number;
  /** Until when an alarm is known to be asked for (so each OR-Map write does not ask again). */
  #armedUntil = 0;
  /**
   * Before this time the sweep has nothing to do: `scheduleNext` sets it to the next due time it found (Infinity when
   * nothing is due); an OR-Map write, or a compaction that moved tombstones or TTL records into lww_record (a new
   * `timeWorkVersion`), ends it. So an alarm that is for something else (a compaction, a Merkle checkpoint) does not
   * run the sweep's statements (8 of them) for nothing.
   */
  #quietUntil = 0;
  /** The LWW store's timeWorkVersion when `scheduleNext` looked. */
  #seenTimeWork = -1;

  constructor(deps: {
    sql: SqlPort;
    lww: LwwStore;
    or: OrStore;
    hlc: HLC;
    outbox?: Outbox | undefined;
    fanout: EventFanout;
    /** Tombstones older than this are pruned (TOPGUN_TOMBSTONE_TTL). */
    horizonMs: number;
    wakeAt: (atMs: number) => Promise<void>;
    clock?: () => number;
    chunk?: number;
  }) {
    this.#sql = deps.sql;
    this.#lww = deps.lww;
    this.#or = deps.or;
    this.#hlc = deps.hlc;
    this.#outbox = deps.outbox;
    this.#fanout = deps.fanout;
    this.#horizonMs = deps.horizonMs;
    this.#wakeAt = deps.wakeAt;
    this.#clock = deps.clock ?? Date.now;
    this.#chunk = deps.chunk ?? SWEEP_CHUNK;
  }

  /**
   * The deletes of records whose TTL ran out, at most a chunk of each kind. Call in the transaction that applies
   * them: the records are read and deleted in one synchronous turn, so a newer write cannot come between. An LWW
   * delete is stamped by the owner's clock after the record's timestamp, so it wins over the expired record only.
   */
  expiredOps(): { ops: OwnerOp[]; more: boolean } {
    const now = this.#clock();
    const ops: OwnerOp[] = [];
    const lww = this.#lww.expiredRecords(now, this.#chunk);
    for (const { map, key, record } of lww) {
      this.#hlc.update(record.timestamp);
      ops.push({ index: ops.length, type: "REMOVE", map, key, record: { value: null, timestamp: this.#hlc.now() } });
    }
    const or = this.#or.expiredRecords(now, this.#chunk);
    for (const { map, key, tag } of or) ops.push({ index: ops.length, type: "OR_REMOVE", map, key, tag });
    return { ops, more: lww.length >= this.#chunk || or.length >= this.#chunk };
  }

  /** Prunes a chunk of each kind of tombstone older than the horizon, with their outbox rows, each kind in one transaction. */
  prune(): Pruned {
    const cutoff = this.#clock() - this.#horizonMs;
    const maps = new Map<string, { map: string; tree: "lww" | "or" }>();
    let queued = 0;
    const lww = this.#lww.pruneTombstones(cutoff, this.#chunk, (pruned) => {
      const rows = pruned.map(({ map, key, timestamp }): ChangeRow => ({
        kind: "lww-prune", map, key, millis: timestamp.millis, counter: timestamp.counter, node: timestamp.nodeId,
      }));
      this.#outbox?.append(rows);
      queued += this.#outbox ? rows.length : 0;
    });
    for (const { map } of lww) maps.set(`lww\u0000${map}`, { map, tree: "lww" });
    const or = this.#sql.transaction(() => {
      const pruned = this.#or.pruneTombstones(cutoff, this.#chunk);
      const rows = pruned.map(({ map, key, tag }): ChangeRow => ({ kind: "or-prune", map, key: key ?? "", tag }));
      this.#outbox?.append(rows);
      queued += this.#outbox ? rows.length : 0;
      return pruned;
    });
    for (const { map } of or) maps.set(`or\u0000${map}`, { map, tree: "or" });
    return {
      maps: [...maps.values()],
      olderThan: { millis: cutoff, counter: 0, nodeId: "" },
      queued,
      more: lww.length >= this.#chunk || or.length >= this.#chunk,
    };
  }

  /** GC_PRUNE to the connections that synced a map whose tombstones were pruned (they prune theirs, strictly older). */
  async announce(pruned: Pruned): Promise<void> {
    const message = { type: "GC_PRUNE", payload: { olderThan: pruned.olderThan } };
    await Promise.all(pruned.maps.map(({ map, tree }) => this.#fanout.publish(map, tree, [message])));
  }

  /** Whether a sweep may find something: a due time passed, or tombstones or TTL records arrived since it looked. */
  mayBeDue(): boolean {
    return this.#clock() >= this.#quietUntil || this.#lww.timeWorkVersion() !== this.#seenTimeWork;
  }

  /**
   * A sweep was skipped (nothing due yet): asks for the alarm at the next due time again, in case this alarm came a
   * little before it (the runtime's clock in an alarm can read earlier than the time it was set for).
   */
  async stayArmed(): Promise<void> {
    if (Number.isFinite(this.#quietUntil)) await this.#wakeAt(this.#quietUntil);
  }

  /** Asks for the alarm now when a chunk was full, else when the next record expires or tombstone comes of age. */
  async scheduleNext(more: boolean): Promise<void> {
    const now = this.#clock();
    if (more) {
      this.#quietUntil = 0;
      this.#armedUntil = now;
      return this.#wakeAt(now);
    }
    this.#seenTimeWork = this.#lww.timeWorkVersion();
    const lww = this.#lww.nextDue();
    const or = this.#or.nextDue();
    // An expiry is due once strictly past (millis + ttl < now); a tombstone once strictly older than the horizon.
    const due = [
      lww.nextExpiry === undefined ? undefined : lww.nextExpiry + 1,
      or.nextExpiry === undefined ? undefined : or.nextExpiry + 1,
      lww.oldestTombstone === undefined ? undefined : lww.oldestTombstone + this.#horizonMs + 1,
      or.oldestTombstone === undefined ? undefined : or.oldestTombstone + this.#horizonMs + 1,
    ].filter((t): t is number => t !== undefined);
    if (due.length === 0) {
      this.#quietUntil = Number.POSITIVE_INFINITY;
      return;
    }
    const at = Math.max(now, Math.min(...due));
    this.#quietUntil = at;
    this.#armedUntil = at;
    await this.#wakeAt(at);
  }

  /** An OR-Map write (which wakes no compaction): the alarm looks for tombstones and TTLs soon after. */
  async noteOrWrite(): Promise<void> {
    const now = this.#clock();
    this.#quietUntil = 0;
    // An alarm already asked for within the delay covers this write; one further off may be too late for its TTL.
    if (this.#armedUntil > now && this.#armedUntil <= now + OR_WRITE_WAKE_DELAY_MS) return;
    this.#armedUntil = now + OR_WRITE_WAKE_DELAY_MS;
    await this.#wakeAt(this.#armedUntil);
  }
}
