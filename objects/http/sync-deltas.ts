import { permits } from "../../core/access-policy.ts";
import { compareTimestamps, type Timestamp } from "../../core/hlc.ts";
import { partitionsOfMap, placedAgainIfStale, type ShardConfig } from "../../core/placement.ts";
import type { Principal } from "../../core/principal.ts";
import type { HttpSyncDelta, HttpSyncError } from "../../core/protocol/http-sync.ts";
import type { AccessGuard } from "../access/access-guard.ts";
import type { RecordOwner, StoredRecord } from "./record-owner.ts";

/** Most records one map's delta carries; a caller with more to catch up on asks again from `serverSyncTimestamp`. */
export const MAX_DELTA_RECORDS = 1_000;

/**
 * `/sync`'s `syncMaps`: each map's LWW changes after the caller's `lastSyncTimestamp`, gathered from every shard of
 * the map, oldest first, tombstones as REMOVE. Read access is checked per map and a record condition per record.
 * `serverSyncTimestamp` is the newest change sent (the caller's own timestamp when there was none), so the next
 * request continues exactly where this one stopped.
 */
export class DeltaReader {
  readonly #access: AccessGuard;
  readonly #owners: (partition: number) => RecordOwner;
  readonly #shards: () => ShardConfig;
  readonly #resetRequired: (map: string, lastSyncMillis: number) => unknown;
  readonly #refreshShards: () => Promise<void>;

  /**
   * `resetRequired`: the session's SYNC_RESET_REQUIRED decision (objects/sync/sync-reset.ts); a map it answers for
   * gets an error instead of a delta, since tombstones the caller never saw may have been pruned.
   */
  constructor(deps: {
    access: AccessGuard;
    owners: (partition: number) => RecordOwner;
    shards: () => ShardConfig;
    resetRequired?: (map: string, lastSyncMillis: number) => unknown;
    /** Asks the control object for the shard counts again (after an owner refused a read placed by a stale copy). */
    refreshShards?: () => Promise<void>;
  }) {
    this.#access = deps.access;
    this.#owners = deps.owners;
    this.#shards = deps.shards;
    this.#resetRequired = deps.resetRequired ?? (() => undefined);
    this.#refreshShards = deps.refreshShards ?? (() => Promise.resolve());
  }

  async read(principal: Principal, maps: readonly { mapName: string; lastSyncTimestamp: Timestamp }[]): Promise<{ deltas: HttpSyncDelta[]; errors: HttpSyncError[] }> {
    const accessOf = await this.#access.forPrincipal(principal);
    const deltas: HttpSyncDelta[] = [];
    const errors: HttpSyncError[] = [];
    await Promise.all(
      maps.map(async ({ mapName, lastSyncTimestamp }, index) => {
        const access = accessOf({ action: "read", resource: mapName });
        if (access.kind === "none") {
          errors.push({ code: 403, message: "access denied", context: mapName });
          return;
        }
        if (this.#resetRequired(mapName, lastSyncTimestamp.millis)) {
          errors.push({ code: 410, message: "SYNC_RESET_REQUIRED: the last sync is older than the tombstone horizon; read the map again from lastSyncTimestamp 0", context: mapName });
          return;
        }
        const parts = await placedAgainIfStale(this.#refreshShards, () => {
          const partitions = partitionsOfMap(this.#shards(), mapName);
          const request = { map: mapName, since: lastSyncTimestamp, limit: MAX_DELTA_RECORDS, shards: partitions.length };
          return Promise.all(partitions.map((p) => this.#owners(p).readSince(request)));
        });
        const changes = oldestFirst(parts.flat()).slice(0, MAX_DELTA_RECORDS);
        const newest = changes.at(-1)?.record.timestamp ?? lastSyncTimestamp;
        const visible = changes.filter((c) => c.record.value === null || permits(access, c.record.value, c.key));
        deltas[index] = {
          mapName,
          records: visible.map((c) => ({ key: c.key, record: c.record, eventType: c.record.value === null ? "REMOVE" : "PUT" })),
          serverSyncTimestamp: newest,
        };
      }),
    );
    return { deltas: deltas.filter((d) => d !== undefined), errors };
  }
}

function oldestFirst(records: StoredRecord[]): StoredRecord[] {
  return records.sort((a, b) => compareTimestamps(a.record.timestamp, b.record.timestamp));
}
