import { describe, expect, it } from "vitest";
import { TopicHandle } from "../client/topic-handle.ts";
import type { ClientMessage } from "../core/protocol/message.ts";
import { PRESENCE_EXPIRY_MS, Presence } from "./presence.ts";

function setup() {
  const published: unknown[] = [];
  const topic = new TopicHandle("lab.s.presence", (message: ClientMessage) => {
    if (message.type === "TOPIC_PUB") published.push(message.payload.data);
    return true;
  });
  let nowMs = 1_000;
  const presence = new Presence(topic, { id: "me", name: "Me" }, () => nowMs);
  const hear = (data: unknown) => topic.deliver({ data, timestamp: nowMs });
  return { presence, published, hear, advance: (ms: number) => (nowMs += ms) };
}

describe("Presence", () => {
  it("lists this device first and peers by name", () => {
    const { presence, hear } = setup();

    hear({ kind: "here", id: "p2", name: "Zed" });
    hear({ kind: "here", id: "p1", name: "Ann" });

    expect(presence.peers().map((peer) => peer.name)).toEqual(["Me", "Ann", "Zed"]);
  });

  it("answers a newcomer's hello with here, so it learns who is already present", () => {
    const { published, hear } = setup();

    hear({ kind: "hello", id: "new", name: "New" });

    expect(published).toEqual([{ kind: "here", id: "me", name: "Me" }]);
  });

  it("drops a peer that says bye", () => {
    const { presence, hear } = setup();
    hear({ kind: "here", id: "p1", name: "Ann" });

    hear({ kind: "bye", id: "p1", name: "Ann" });

    expect(presence.peers().map((peer) => peer.id)).toEqual(["me"]);
  });

  it("forgets a peer that stayed quiet longer than the expiry on the next heartbeat", () => {
    const { presence, hear, advance } = setup();
    hear({ kind: "here", id: "quiet", name: "Quiet" });
    advance(PRESENCE_EXPIRY_MS / 2);
    hear({ kind: "here", id: "chatty", name: "Chatty" });
    advance(PRESENCE_EXPIRY_MS / 2 + 1);

    presence.heartbeat();

    expect(presence.peers().map((peer) => peer.id)).toEqual(["me", "chatty"]);
  });

  it("ignores malformed messages and its own echo", () => {
    const { presence, hear } = setup();

    hear("hello");
    hear({ kind: "wave", id: "x", name: "X" });
    hear({ kind: "here", id: "me", name: "Me again" });

    expect(presence.peers().map((peer) => peer.id)).toEqual(["me"]);
  });
});
