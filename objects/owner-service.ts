import type { ORMapEntry } from "../core/or-map.ts";
import type { QueryEntry } from "../core/predicate.ts";
import type { Query } from "../core/protocol/shared.ts";
import type { CrdtWriter } from "./crdt-writer.ts";
import type { ConnectionRef, EventFanout } from "./event-fanout.ts";
import type { InterestRegistry } from "./interest-registry.ts";
import { LeafBlockCache } from "./leaf-block-cache.ts";
import type { Persistence } from "./persistence.ts";
import { orAddRow } from "./crdt-writer.ts";
import type { ChangeRow } from "./postgres-sink.ts";
import type { LwwStore } from "./lww-store.ts";
import type { MerkleStore, TreeKind } from "./merkle-store.ts";
import type { LeafSumsWire, MerkleAnswer, OwnerApi, OwnerOp, OwnerOpOutcome } from "./owner-api.ts";
import type { OrStore } from "./or-store.ts";
import type { QueryService } from "./query-service.ts";
import type { SqlPort } from "./sql-port.ts";

const LEAF_PATH_LENGTH = 3;

/** The owner role of a partition: the maps (or shards) that hash to it. */
export class OwnerService implements OwnerApi {
  readonly #sql: SqlPort;
  readonly #writer: CrdtWriter;
  readonly #lww: LwwStore;
  readonly #or: OrStore;
  readonly #merkle: MerkleStore;
  readonly #interest: InterestRegistry;
  readonly #fanout: EventFanout;
  readonly #queries: QueryService;
  readonly #leafBlocks = new LeafBlockCache();
  readonly #persistence: Persistence | undefined;

  constructor(deps: {
    sql: SqlPort;
    writer: CrdtWriter;
    lww: LwwStore;
    or: OrStore;
    merkle: MerkleStore;
    interest: InterestRegistry;
    fanout: EventFanout;
    queries: QueryService;
    /** Postgres write-through; absent when no Hyperdrive binding is configured. */
    persistence?: Persistence;
  }) {
    this.#sql = deps.sql;
    this.#writer = deps.writer;
    this.#lww = deps.lww;
    this.#or = deps.or;
    this.#merkle = deps.merkle;
    this.#interest = deps.interest;
    this.#fanout = deps.fanout;
    this.#queries = deps.queries;
    this.#persistence = deps.persistence;
  }

  async apply({ ops, writer, persist }: { ops: OwnerOp[]; writer: ConnectionRef; persist?: boolean }): Promise<OwnerOpOutcome[]> {
    for (const map of new Set(ops.map((op) => op.map))) this.#leafBlocks.forget(map);
    const { outcomes, events, changes, queued } = this.#writer.apply(ops);
    if (this.#persistence && queued > 0) await this.#persistence.changed();
    if (persist) {
      const persisted = this.#persistence ? await this.#persistence.persisted() : false;
      for (const outcome of outcomes) if (outcome.ok) outcome.persisted = persisted;
    }
    // QUERY_UPDATEs go out before the SERVER_EVENTs (PROTOCOL.md §10.3); both before the writer's OP_ACK.
    await this.#queries.publish(changes);
    await Promise.all(events.map((e) => this.#fanout.publish(e.map, e.tree, e.messages, writer)));
    return outcomes;
  }

  async syncInit({ kind, map, listener }: { kind: TreeKind; map: string; listener: ConnectionRef }): Promise<LeafSumsWire> {
    this.#interest.register(map, kind === "lww" ? "lww-sync" : "or-sync", listener.home, listener.conn);
    return this.#merkle.sums(kind, map).encode();
  }

  async merkle({ kind, map, path }: { kind: TreeKind; map: string; path: string }): Promise<MerkleAnswer> {
    const sums = this.#merkle.sums(kind, map);
    if (path.length === LEAF_PATH_LENGTH) {
      return sums.isLeafWithEntries(path) ? this.readLeaf({ kind, map, leaf: Number.parseInt(path, 16) }) : { type: "missing" };
    }
    const buckets = sums.buckets(path);
    return buckets ? { type: "buckets", buckets } : { type: "missing" };
  }

  async readLeaf({ kind, map, leaf }: { kind: TreeKind; map: string; leaf: number }): Promise<MerkleAnswer> {
    return kind === "lww"
      ? { type: "lww-leaf", records: this.#leafBlocks.read(map, leaf, (first, last) => this.#lww.readLeaves(map, first, last)) }
      : { type: "or-leaf", entries: this.#or.readLeaf(map, leaf) };
  }

  async orDiff({ map, keys }: { map: string; keys: string[] }): Promise<ORMapEntry[]> {
    return this.#or.readKeys(map, keys);
  }

  async pushOrDiff({ map, entries, writer }: { map: string; entries: ORMapEntry[]; writer: ConnectionRef }): Promise<void> {
    const messages: unknown[] = [];
    const queued: ChangeRow[] = [];
    try {
      this.#sql.transaction(() => {
        for (const entry of entries) {
          const change = this.#or.mergeEntry(map, entry);
          queued.push(...change.added.map((record) => orAddRow(map, entry.key, record)));
          queued.push(...change.removedTags.map((tag): ChangeRow => ({ kind: "or-remove", map, key: entry.key, tag })));
          for (const record of change.added) {
            messages.push({
              type: "SERVER_EVENT",
              payload: { mapName: map, eventType: "OR_ADD", key: entry.key, orRecord: record, orTag: record.tag },
            });
          }
          for (const tag of change.removedTags) {
            messages.push({ type: "SERVER_EVENT", payload: { mapName: map, eventType: "OR_REMOVE", key: entry.key, orTag: tag } });
          }
        }
        if (this.#persistence) this.#persistence.outbox.append(queued);
      });
    } catch (err) {
      this.#merkle.forget();
      throw err;
    }
    if (this.#persistence && queued.length > 0) await this.#persistence.changed();
    await this.#fanout.publish(map, "or", messages, writer);
  }

  async stats(): Promise<{ depth: number; lagMs: number } | undefined> {
    return this.#persistence?.stats();
  }

  async dropConnection({ home, conn }: ConnectionRef): Promise<void> {
    this.#interest.dropConnection(home, conn);
    this.#queries.dropConnection(home, conn);
  }

  async querySubscribe(request: { map: string; queryId: string; query: Query; subscriber: ConnectionRef }): Promise<QueryEntry[]> {
    return this.#queries.subscribe(request);
  }

  async queryUnsubscribe(request: { queryId: string; subscriber: ConnectionRef }): Promise<void> {
    this.#queries.unsubscribe(request);
  }
}

