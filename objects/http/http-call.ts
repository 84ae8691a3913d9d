import type { EntryProcessor, Query } from "../../core/protocol/shared.ts";

/**
 * One `/v1` request as the Worker hands it to a home partition (validated there, from JSON): what to read or write,
 * never how. The home turns it into protocol messages (objects/http/http-api.ts).
 */
export type HttpCall =
  | { kind: "get"; map: string; key: string }
  | { kind: "put"; map: string; key: string; value: unknown }
  | { kind: "remove"; map: string; key: string }
  | { kind: "list"; map: string; query: Query }
  | { kind: "batch"; ops: BatchOp[] }
  | { kind: "orGet"; map: string; key: string }
  | { kind: "orAdd"; map: string; key: string; value: unknown }
  | { kind: "orRemove"; map: string; key: string; tag?: string | undefined; value?: unknown }
  | { kind: "publish"; topic: string; data: unknown }
  | { kind: "counterGet"; name: string }
  | { kind: "counterAdd"; name: string; delta: number }
  | { kind: "process"; map: string; key: string; processor: EntryProcessor }
  | { kind: "journal"; fromSequence: string; limit?: number | undefined; map?: string | undefined }
  | { kind: "sql"; sql: string }
  | { kind: "schema"; map: string };

/** One write of a `/v1/batch`: a put (with `value`) or a delete. */
export type BatchOp = { map: string; key: string; value: unknown } | { map: string; key: string; delete: true };

/** The answer to an HttpCall: a status and a JSON body, or an error status and a message. */
export type HttpOutcome = { ok: true; status: 200 | 201 | 204; body?: unknown } | { ok: false; status: number; message: string };
