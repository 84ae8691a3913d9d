import type { Timestamp } from "../client/index.ts";

/** A timestamp as `HH:MM:SS.mmm #counter @node`, short enough for a phone screen. */
export function formatTimestamp(timestamp: Timestamp): string {
  const time = new Date(timestamp.millis).toISOString().slice(11, 23);
  return `${time} #${timestamp.counter} @${shortNodeId(timestamp.nodeId)}`;
}

/** The first characters of a node id that tell devices apart. */
export function shortNodeId(nodeId: string): string {
  return nodeId.slice(0, 7);
}
