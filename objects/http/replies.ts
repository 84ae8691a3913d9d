import type { ServerMessage } from "../../core/protocol/message.ts";
import { parseServerMessage } from "../../core/protocol/message.ts";
import type { Exchange } from "./http-gateway.ts";

type MessageOf<T extends ServerMessage["type"]> = Extract<ServerMessage, { type: T }>;

function hasType<T extends ServerMessage["type"]>(message: ServerMessage, type: T): message is MessageOf<T> {
  return message.type === type;
}

/** Every reply of `type` an exchange collected, read through the server message schema. */
export function repliesOf<T extends ServerMessage["type"]>(answer: Exchange, type: T): MessageOf<T>[] {
  const found: MessageOf<T>[] = [];
  for (const reply of answer.replies) {
    const parsed = parseServerMessage(reply);
    if (parsed.ok && hasType(parsed.message, type)) found.push(parsed.message);
  }
  return found;
}

/** The first reply of `type` an exchange collected. */
export function replyOf<T extends ServerMessage["type"]>(answer: Exchange, type: T): MessageOf<T> | undefined {
  return repliesOf(answer, type)[0];
}
