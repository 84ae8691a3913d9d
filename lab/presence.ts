import type { TopicHandle, TopicMessage } from "../client/index.ts";

/** A device seen in the session. */
export interface Peer {
  id: string;
  name: string;
  lastSeenMs: number;
}

type PresenceKind = "hello" | "here" | "bye";

/** How often a device says it is still here, and how long after its last word it counts as gone. */
export const PRESENCE_INTERVAL_MS = 10_000;
export const PRESENCE_EXPIRY_MS = 25_000;

/**
 * Who is in a session, over a pub/sub topic: a device says `hello` when it joins (everyone answers `here`),
 * repeats `here` every {@link PRESENCE_INTERVAL_MS}, and says `bye` when the page goes away. Topics are not
 * stored, so a device that stops talking (closed lid, lost network) drops out after {@link PRESENCE_EXPIRY_MS}.
 */
export class Presence {
  readonly #topic: TopicHandle;
  readonly #self: { id: string; name: string };
  readonly #peers = new Map<string, Peer>();
  readonly #listeners = new Set<(peers: Peer[]) => void>();
  readonly #now: () => number;

  constructor(topic: TopicHandle, self: { id: string; name: string }, now: () => number = Date.now) {
    this.#topic = topic;
    this.#self = self;
    this.#now = now;
    topic.subscribe((message) => this.#receive(message));
  }

  /** Announces this device; call again after a reconnect so peers that missed it learn of it. */
  announce(): void {
    this.#say("hello");
  }

  /** Says this device is still here and forgets peers that went quiet. */
  heartbeat(): void {
    this.#say("here");
    this.#expire();
  }

  leave(): void {
    this.#say("bye");
  }

  /** This device first, then the others by name. */
  peers(): Peer[] {
    const others = [...this.#peers.values()].sort((a, b) => a.name.localeCompare(b.name));
    return [{ ...this.#self, lastSeenMs: this.#now() }, ...others];
  }

  onChange(listener: (peers: Peer[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #say(kind: PresenceKind): void {
    this.#topic.publish({ kind, id: this.#self.id, name: this.#self.name });
  }

  #receive(message: TopicMessage): void {
    const data = parsePresence(message.data);
    if (data === undefined || data.id === this.#self.id) return;
    if (data.kind === "bye") this.#peers.delete(data.id);
    else this.#peers.set(data.id, { id: data.id, name: data.name, lastSeenMs: this.#now() });
    if (data.kind === "hello") this.#say("here");
    this.#emit();
  }

  #expire(): void {
    const cutoff = this.#now() - PRESENCE_EXPIRY_MS;
    let changed = false;
    for (const [id, peer] of this.#peers) {
      if (peer.lastSeenMs < cutoff) changed = this.#peers.delete(id);
    }
    if (changed) this.#emit();
  }

  #emit(): void {
    const peers = this.peers();
    for (const listener of this.#listeners) listener(peers);
  }
}

function parsePresence(data: unknown): { kind: PresenceKind; id: string; name: string } | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  if (!("kind" in data && "id" in data && "name" in data)) return undefined;
  const { kind, id, name } = data;
  if (kind !== "hello" && kind !== "here" && kind !== "bye") return undefined;
  if (typeof id !== "string" || typeof name !== "string") return undefined;
  return { kind, id, name: name.slice(0, 40) };
}
