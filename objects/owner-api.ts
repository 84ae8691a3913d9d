import type { RecordOwner } from "./http/record-owner.ts";
import type { JournalOwner } from "./journal/journal-coordinator.ts";
import type { QueryOwner } from "./queries/query-coordinator.ts";
import type { SearchOwner } from "./search/search-coordinator.ts";
import type { ConnectionOwner } from "./session/connection-close.ts";
import type { SyncOwner } from "./sync/sync-owner.ts";
import type { WriteOwner } from "./writes/owner-op.ts";

/**
 * The owner role of a partition, as a home calls it: directly when the home owns the map, else by RPC. Each
 * capability declares the part it needs (WriteOwner, SyncOwner, …) beside its coordinator; this is their sum.
 * Every method takes one plain object so the RPC form is the same call.
 */
export interface OwnerApi extends WriteOwner, SyncOwner, QueryOwner, SearchOwner, JournalOwner, ConnectionOwner, RecordOwner {
  /** Write-through state of this partition (undefined while Postgres is not configured). */
  stats(): Promise<{ depth: number; lagMs: number } | undefined>;
}
