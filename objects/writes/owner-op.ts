import type { MapSchema } from "../../core/map-schema.ts";
import type { ErrorKind } from "../../core/errors.ts";
import type { LWWRecord } from "../../core/lww-map.ts";
import type { ORMapRecord } from "../../core/or-record.ts";
import type { PredicateNode } from "../../core/protocol/shared.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";

/** One validated write, as the home sends it to the owner of its key. */
export type OwnerOp = LwwOwnerOp | OrOwnerOp;
/**
 * `guard`: a record-level write condition (access policies, bound to the writer): the owner applies the op only if
 * the key's current live value, when there is one, passes it too, so nobody takes over or deletes a record the
 * condition keeps from them.
 */
export type LwwOwnerOp = { index: number; type: "PUT" | "REMOVE"; map: string; key: string; record: LWWRecord; guard?: PredicateNode };
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

/** One batch's ops for one owner, from one writer's connection. */
export interface ApplyRequest {
  ops: OwnerOp[];
  writer: ConnectionRef;
  /** The owner also waits for Postgres and marks each applied op `persisted` when it got there. */
  persist?: boolean;
}

/** What the write path asks of a key's owner (directly when the home owns the map, else by RPC). */
export interface WriteOwner {
  apply(request: ApplyRequest): Promise<OwnerOpOutcome[]>;
  /** Several requests (of several batches and connections) in one call, applied in order; answers per request. */
  applyBatches(request: { requests: ApplyRequest[] }): Promise<OwnerOpOutcome[][]>;
  /** Runs a built-in entry processor on each key atomically (read, compute, write in one transaction). */
  /**
   * With `guard`, a key is processed only if its current value and its new value both pass it; with `schema` (the
   * map's), only if its new value conforms.
   */
  process(request: { map: string; keys: string[]; processor: { name: string; args?: unknown }; writer: ConnectionRef; guard?: PredicateNode; schema?: MapSchema }): Promise<Record<string, ProcessOutcome>>;
}
