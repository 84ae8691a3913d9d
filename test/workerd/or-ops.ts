// OR-Map ops and writes for workerd tests that drive a Partition over a socket.
import type { WorkerdSocket } from "./socket.ts";

/** A map of test/workerd/wrangler.test.toml declared with 8 shards. */
export const SHARDED_MAP = "sharded-w";

/** One key of an OR-Map sync answer: its records and tombstones. */
export interface Entry {
  key: string;
  records: { tag: string; value: unknown }[];
  tombstones: string[];
}

let millis = Date.now() - 60_000;

/** An OR_ADD op with a tag of its own (timestamps increase across calls). */
export function orAdd(map: string, key: string, value: unknown) {
  const timestamp = { millis: millis++, counter: 0, nodeId: "writer" };
  return { mapName: map, key, opType: "OR_ADD", orRecord: { value, timestamp, tag: `${timestamp.millis}:0:writer` } };
}

export function orRemove(map: string, key: string, tag: string) {
  return { mapName: map, key, opType: "OR_REMOVE", orTag: tag };
}

/** Sends the ops as one OP_BATCH and waits for its OP_ACK. */
export async function write(socket: WorkerdSocket, ops: unknown[]): Promise<void> {
  socket.send({ type: "OP_BATCH", payload: { ops } });
  await socket.waitFor("OP_ACK");
}
