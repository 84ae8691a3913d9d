import type { ClientMessage } from "../core/protocol/message.ts";
import type { JournalEventMessage, JournalReadResponseMessage } from "../core/protocol/journal.ts";
import type { JournalEventType } from "../core/protocol/shared.ts";

/** One change recorded by the server's event journal. `sequence` orders events (exactly within a partition). */
export interface JournalEvent {
  sequence: bigint;
  type: JournalEventType;
  mapName: string;
  key: string;
  value?: unknown;
  previousValue?: unknown;
  timestamp: { millis: number; counter: number; nodeId: string };
  nodeId: string;
  metadata?: Record<string, unknown>;
}

export interface JournalSubscribeOptions {
  /** Replays stored events from this sequence (inclusive) first. */
  fromSequence?: bigint;
  mapName?: string;
  types?: JournalEventType[];
}

interface PendingRead {
  message: ClientMessage;
  resolve(events: JournalEvent[]): void;
}

interface Subscription {
  message: ClientMessage;
  options: JournalSubscribeOptions;
  listener(event: JournalEvent): void;
}

/**
 * The server's event journal (PROTOCOL.md §11.6): reads and live subscriptions. Reads made offline go out after
 * the next handshake; subscriptions are renewed after every handshake (from where they started).
 * JOURNAL_EVENT names no subscription, so each subscription filters by its own map and types.
 */
export class EventJournalHandle {
  readonly #send: (message: ClientMessage) => boolean;
  readonly #newId: () => string;
  readonly #reads = new Map<string, PendingRead>();
  readonly #subscriptions = new Map<string, Subscription>();

  constructor(send: (message: ClientMessage) => boolean, newId: () => string) {
    this.#send = send;
    this.#newId = newId;
  }

  /** Up to `limit` events (the server's default when absent) from `sequence` on, inclusive, of every map. */
  readFrom(sequence: bigint, limit?: number): Promise<JournalEvent[]> {
    return this.#read(sequence, limit, undefined);
  }

  /** Like {@link readFrom}, for one map. */
  readMapEvents(mapName: string, sequence: bigint = 0n, limit?: number): Promise<JournalEvent[]> {
    return this.#read(sequence, limit, mapName);
  }

  /** Calls `listener` for each new event (and stored ones from `fromSequence`); returns the unsubscribe function. */
  subscribe(listener: (event: JournalEvent) => void, options: JournalSubscribeOptions = {}): () => void {
    const requestId = this.#newId();
    const message: ClientMessage = {
      type: "JOURNAL_SUBSCRIBE",
      requestId,
      ...(options.fromSequence !== undefined ? { fromSequence: options.fromSequence.toString() } : {}),
      ...(options.mapName !== undefined ? { mapName: options.mapName } : {}),
      ...(options.types !== undefined ? { types: options.types } : {}),
    };
    this.#subscriptions.set(requestId, { message, options, listener });
    this.#send(message);
    return () => {
      if (!this.#subscriptions.delete(requestId)) return;
      this.#send({ type: "JOURNAL_UNSUBSCRIBE", subscriptionId: requestId });
    };
  }

  /** After AUTH_ACK: reads still unanswered and every subscription again. */
  resume(): void {
    for (const read of this.#reads.values()) this.#send(read.message);
    for (const subscription of this.#subscriptions.values()) this.#send(subscription.message);
  }

  answerRead(message: JournalReadResponseMessage): void {
    const read = this.#reads.get(message.requestId);
    if (read === undefined) return;
    this.#reads.delete(message.requestId);
    read.resolve(message.events.map(toJournalEvent));
  }

  deliver(message: JournalEventMessage): void {
    const event = toJournalEvent(message.event);
    for (const { options, listener } of this.#subscriptions.values()) {
      if (options.mapName !== undefined && event.mapName !== options.mapName) continue;
      if (options.types !== undefined && !options.types.includes(event.type)) continue;
      listener(event);
    }
  }

  #read(sequence: bigint, limit: number | undefined, mapName: string | undefined): Promise<JournalEvent[]> {
    const requestId = this.#newId();
    const message: ClientMessage = {
      type: "JOURNAL_READ",
      requestId,
      fromSequence: sequence.toString(),
      ...(limit !== undefined ? { limit } : {}),
      ...(mapName !== undefined ? { mapName } : {}),
    };
    return new Promise((resolve) => {
      this.#reads.set(requestId, { message, resolve });
      this.#send(message);
    });
  }
}

function toJournalEvent(data: JournalEventMessage["event"]): JournalEvent {
  const event: JournalEvent = {
    sequence: sequenceOf(data.sequence),
    type: data.type,
    mapName: data.mapName,
    key: data.key,
    timestamp: data.timestamp,
    nodeId: data.nodeId,
  };
  if (data.value !== undefined) event.value = data.value;
  if (data.previousValue !== undefined) event.previousValue = data.previousValue;
  if (data.metadata !== undefined) event.metadata = data.metadata;
  return event;
}

/** Sequences are decimal integers past 2^53 (PROTOCOL.md §11.6); anything else reads as 0. */
function sequenceOf(wire: string): bigint {
  return /^\d+$/.test(wire) ? BigInt(wire) : 0n;
}
