import type { Timestamp } from "../client/index.ts";

/** The first characters of a node id that tell devices apart. */
export function shortNodeId(nodeId: string): string {
  return nodeId.slice(0, 7);
}

/** The local wall-clock time of a timestamp, `HH:MM:SS.mmm`. */
export function clockText(millis: number): string {
  const time = new Date(millis);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}.${String(time.getMilliseconds()).padStart(3, "0")}`;
}

/** Who wrote a value and when, for a person: `by Device B at 12:01:05.253`. */
export function writtenText(timestamp: Timestamp, writer: string): string {
  return `by ${writer} at ${clockText(timestamp.millis)}`;
}

/** The whole hybrid logical clock, for a tooltip: what decides which write wins. */
export function clockTitle(timestamp: Timestamp): string {
  return `Hybrid logical clock ${timestamp.millis}:${timestamp.counter}:${timestamp.nodeId}. The write with the later clock wins; ties go to the higher counter, then the node id.`;
}
