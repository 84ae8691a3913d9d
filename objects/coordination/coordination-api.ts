import type { PNCounterState } from "../../core/protocol/shared.ts";
import type { ConnectionRef } from "../delivery/event-fanout.ts";
import type { LockOutcome, LockRequest } from "./lock-service.ts";
import type { TopicPublish } from "./topic-service.ts";

/**
 * The owner role for topics, PN counters and locks, as the home calls it: directly when the home owns the name
 * (`partitionOfName`), else by RPC. Every method takes one plain object so the RPC form is the same call.
 */
export interface CoordinationApi {
  topicSubscribe(request: { topic: string; subscriber: ConnectionRef }): Promise<void>;
  topicUnsubscribe(request: { topic: string; subscriber: ConnectionRef }): Promise<void>;
  topicPublish(request: TopicPublish): Promise<void>;
  counterRequest(request: { name: string; subscriber: ConnectionRef }): Promise<PNCounterState>;
  counterSync(request: { name: string; state: PNCounterState; sender: ConnectionRef }): Promise<PNCounterState>;
  lockRequest(request: LockRequest): Promise<LockOutcome>;
  lockRelease(request: { name: string; fencingToken: number; holder: ConnectionRef }): Promise<boolean>;
  /** The connection closed: drops its topic and counter subscriptions, releases its locks, removes its queued requests. */
  dropConnection(request: ConnectionRef): Promise<void>;
}
