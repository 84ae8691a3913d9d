import { decodeMessage } from "../../core/codec.ts";
import { ConnectionSender } from "../../objects/delivery/connection-sender.ts";
import type { ConnectionRef } from "../../objects/delivery/event-fanout.ts";

/** A message an owner sent, with the connection it went to. */
export interface SentMessage {
  to: ConnectionRef;
  message: { type: string; payload: Record<string, unknown> };
}

/**
 * A ConnectionSender that records what it sends (decoded, in order) instead of reaching homes. Connections listed
 * in `gone` are reported unknown by their home, as a home does for a closed socket.
 */
export function recordingSender(): { sender: ConnectionSender; sent: SentMessage[]; gone: Set<string> } {
  const sent: SentMessage[] = [];
  const gone = new Set<string>();
  const sender = new ConnectionSender(async (home, conns, frames) => {
    const unknown = conns.filter((conn) => gone.has(`${home}/${conn}`));
    for (const conn of conns) {
      if (unknown.includes(conn)) continue;
      for (const frame of frames) {
        sent.push({ to: { home, conn }, message: decodeMessage(frame) as SentMessage["message"] });
      }
    }
    return unknown;
  });
  return { sender, sent, gone };
}
