import type { PNCounterState } from "../../core/protocol/shared.ts";
import type { CoordinationApi } from "./coordination-api.ts";
import type { CounterService } from "./counter-service.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import type { LockOutcome, LockRequest, LockService } from "./lock-service.ts";
import type { TopicPublish, TopicService } from "./topic-service.ts";

/** The owner role for topics, counters and locks: one entry point over the three services. */
export class CoordinationOwner implements CoordinationApi {
  readonly #topics: TopicService;
  readonly #counters: CounterService;
  readonly #locks: LockService;

  constructor(deps: { topics: TopicService; counters: CounterService; locks: LockService }) {
    this.#topics = deps.topics;
    this.#counters = deps.counters;
    this.#locks = deps.locks;
  }

  async topicSubscribe({ topic, subscriber }: { topic: string; subscriber: ConnectionRef }): Promise<void> {
    this.#topics.subscribe(topic, subscriber);
  }

  async topicUnsubscribe({ topic, subscriber }: { topic: string; subscriber: ConnectionRef }): Promise<void> {
    this.#topics.unsubscribe(topic, subscriber);
  }

  topicPublish(request: TopicPublish): Promise<void> {
    return this.#topics.publish(request);
  }

  async counterRequest({ name, subscriber }: { name: string; subscriber: ConnectionRef }): Promise<PNCounterState> {
    return this.#counters.request(name, subscriber);
  }

  counterSync({ name, state, sender }: { name: string; state: PNCounterState; sender: ConnectionRef }): Promise<PNCounterState> {
    return this.#counters.sync(name, state, sender);
  }

  lockRequest(request: LockRequest): Promise<LockOutcome> {
    return this.#locks.request(request);
  }

  lockRelease(request: { name: string; fencingToken: number; holder: ConnectionRef }): Promise<boolean> {
    return this.#locks.release(request);
  }

  async dropConnection(ref: ConnectionRef): Promise<void> {
    this.#topics.dropConnection(ref);
    this.#counters.dropConnection(ref);
    await this.#locks.dropConnection(ref);
  }

  /** The Durable Object alarm fired. */
  alarm(): Promise<void> {
    return this.#locks.alarm();
  }
}
