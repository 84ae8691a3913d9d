import type { ORMapEntry } from "../core/or-map.ts";
import type { QueryEntry } from "../core/predicate.ts";
import type { Query } from "../core/protocol/shared.ts";
import type { CrdtWriter } from "./crdt-writer.ts";
import type { ConnectionRef, EventFanout } from "./event-fanout.ts";
import type { InterestRegistry } from "./interest-registry.ts";
import { LeafBlockCache } from "./leaf-block-cache.ts";
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

  constructor(deps: {
    sql: SqlPort;
    writer: CrdtWriter;
    lww: LwwStore;
    or: OrStore;
    merkle: MerkleStore;
    interest: InterestRegistry;
    fanout: EventFanout;
    queries: QueryService;
  }) {
    this.#sql = deps.sql;
    this.#writer = deps.writer;
    this.#lww = deps.lww;
    this.#or = deps.or;
    this.#merkle = deps.merkle;
    this.#interest = deps.interest;
    this.#fanout = deps.fanout;
    this.#queries = deps.queries;
  }

  async apply({ ops, writer }: { ops: OwnerOp[]; writer: ConnectionRef }): Promise<OwnerOpOutcome[]> {
    for (const map of new Set(ops.map((op) => op.map))) this.#leafBlocks.forget(map);
    const { outcomes, events, changes } = this.#writer.apply(ops);
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
    try {
      this.#sql.transaction(() => {
        for (const entry of entries) {
          const change = this.#or.mergeEntry(map, entry);
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
      });
    } catch (err) {
      this.#merkle.forget();
      throw err;
    }
    await this.#fanout.publish(map, "or", messages, writer);
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

