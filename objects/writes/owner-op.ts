import type { ErrorKind } from "../../core/errors.ts";
import type { LWWRecord } from "../../core/lww-map.ts";
import type { ORMapRecord } from "../../core/or-record.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";

/** One validated write, as the home sends it to the owner of its key. */
export type OwnerOp = LwwOwnerOp | OrOwnerOp;
export type LwwOwnerOp = { index: number; type: "PUT" | "REMOVE"; map: string; key: string; record: LWWRecord };
export type OrOwnerOp =
  | { index: number; type: "OR_ADD"; map: string; key: string; record: ORMapRecord }
  | { index: number; type: "OR_REMOVE"; map: string; key: string; tag: string };

export function isLwwOp(op: OwnerOp): op is LwwOwnerOp {
  return op.type === "PUT" || op.type === "REMOVE";
}

/** The owner's answer for one op: applied (or lost the merge, which is not an error), or rejected. */
export type OwnerOpOutcome = { index: number; ok: true; persisted?: boolean } | { index: number; ok: false; kind: ErrorKind; message: string };

/** One key's answer to an entry processor (the wire shape of ENTRY_PROCESS_RESPONSE without requestId). */
export interface ProcessOutcome {
  success: boolean;
  result?: unknown;
  newValue?: unknown;
  error?: string;
}

/** What the write path asks of a key's owner (directly when the home owns the map, else by RPC). */
export interface WriteOwner {
  /** With `persist`, the owner also waits for Postgres and marks each applied op `persisted` when it got there. */
  apply(request: { ops: OwnerOp[]; writer: ConnectionRef; persist?: boolean }): Promise<OwnerOpOutcome[]>;
  /** Runs a built-in entry processor on each key atomically (read, compute, write in one transaction). */
  process(request: { map: string; keys: string[]; processor: { name: string; args?: unknown }; writer: ConnectionRef }): Promise<Record<string, ProcessOutcome>>;
}
