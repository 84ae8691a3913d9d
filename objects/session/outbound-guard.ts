import { permits, RESOURCE_PREFIX } from "../../core/access-policy.ts";
import { decodeMessage, encodeMessage } from "../../core/codec.ts";
import type { Principal } from "../../core/principal.ts";
import type { AccessGuard, AccessOf, AccessView } from "../access/access-guard.ts";
import type { ConnectionSubscriptions } from "../delivery/connection-subscriptions.ts";

/** What a live frame pushed by an owner exposes: a resource read whole, or one record of a map. */
export type OutboundExposure =
  | { kind: "whole"; resource: string }
  | { kind: "derived"; resource: string }
  | { kind: "record"; resource: string; key: string; value: unknown; leave: boolean }
  | { kind: "none" };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/**
 * Classifies a frame an owner pushes to a connection: the map, topic or counter it reveals, and for query updates
 * the record. Subscriptions name their map only at the home (`mapOf`); an unknown one is treated as a whole-map read.
 */
export function exposureOf(
  message: unknown,
  mapOf: (kind: "query" | "search", id: string) => string | undefined,
  isDerivedQuery: (queryId: string) => boolean = () => false,
): OutboundExposure {
  if (!isRecord(message)) return { kind: "none" };
  const payload = isRecord(message.payload) ? message.payload : {};
  switch (message.type) {
    case "SERVER_EVENT": {
      const map = text(payload.mapName);
      return map === undefined ? { kind: "none" } : { kind: "whole", resource: map };
    }
    case "QUERY_UPDATE": {
      const queryId = text(payload.queryId) ?? "";
      const map = mapOf("query", queryId);
      const key = text(payload.key);
      if (map === undefined || key === undefined) return { kind: "none" };
      // A group row or a projected value is not a record the condition can be evaluated on; the query was
      // restricted to the readable records when it was subscribed.
      if (isDerivedQuery(queryId)) return { kind: "derived", resource: map };
      return { kind: "record", resource: map, key, value: payload.value, leave: payload.changeType === "LEAVE" };
    }
    case "SEARCH_UPDATE": {
      const map = mapOf("search", text(payload.subscriptionId) ?? "");
      return map === undefined ? { kind: "none" } : { kind: "whole", resource: map };
    }
    case "JOURNAL_EVENT": {
      const event = isRecord(message.event) && isRecord(message.event.event) ? message.event.event : message.event;
      const map = isRecord(event) ? text(event.mapName) : undefined;
      return map === undefined ? { kind: "none" } : { kind: "whole", resource: map };
    }
    case "TOPIC_MESSAGE": {
      const topic = text(payload.topic);
      return topic === undefined ? { kind: "none" } : { kind: "whole", resource: RESOURCE_PREFIX.topic + topic };
    }
    case "COUNTER_UPDATE": {
      const name = text(payload.name);
      return name === undefined ? { kind: "none" } : { kind: "whole", resource: RESOURCE_PREFIX.counter + name };
    }
    default:
      return { kind: "none" };
  }
}

/**
 * Whether the connection may still receive what the frame exposes under the current policies: yes, no, or (a
 * LEAVE whose value it may not read) only without the value: a LEAVE names a key the subscriber already had.
 */
export function mayReceive(exposure: OutboundExposure, accessOf: AccessOf): "yes" | "no" | "without-value" {
  if (exposure.kind === "none") return "yes";
  const access = accessOf({ action: "read", resource: exposure.resource });
  if (exposure.kind === "whole") return access.kind === "all" ? "yes" : "no";
  if (exposure.kind === "derived") return access.kind === "none" ? "no" : "yes";
  if (permits(access, exposure.value, exposure.key)) return "yes";
  return exposure.leave && access.kind !== "none" ? "without-value" : "no";
}

/** The frames one connection (with its principal) may receive, of `frames`, under one copy of the policies. */
export type OutboundCheck = (conn: string, principal: Principal, frames: readonly Uint8Array[]) => readonly Uint8Array[];

/**
 * The last check before a live frame leaves the home: owners filtered it when it was subscribed, but policies may
 * have changed since (a subscription's record filter was bound then). While the namespace has no policies, or the
 * principal is an admin subject, frames pass untouched and undecoded.
 */
export class OutboundGuard {
  readonly #access: AccessGuard;
  readonly #queries: ConnectionSubscriptions;
  readonly #searches: ConnectionSubscriptions;
  readonly #isDerivedQuery: (conn: string, queryId: string) => boolean;

  constructor(deps: {
    access: AccessGuard;
    queries: ConnectionSubscriptions;
    searches: ConnectionSubscriptions;
    /** True for a grouped or projected query, whose updates carry no whole record. */
    isDerivedQuery?: (conn: string, queryId: string) => boolean;
  }) {
    this.#access = deps.access;
    this.#queries = deps.queries;
    this.#searches = deps.searches;
    this.#isDerivedQuery = deps.isDerivedQuery ?? (() => false);
  }

  /** The frames of `frames` the connection may receive under the current policies (fetched if need be). */
  async permitted(conn: string, principal: Principal, frames: readonly Uint8Array[]): Promise<readonly Uint8Array[]> {
    return (await this.check())(conn, principal, frames);
  }

  /** The check under the current policies (fetched if the partition holds no copy that may serve). */
  async check(): Promise<OutboundCheck> {
    return this.#checkUnder(await this.#access.view());
  }

  /** The check under the copy of the policies the partition holds; undefined when the copy must be fetched first. */
  checkNow(): OutboundCheck | undefined {
    const view = this.#access.viewNow();
    return view === undefined ? undefined : this.#checkUnder(view);
  }

  #checkUnder(view: AccessView): OutboundCheck {
    return (conn, principal, frames) => {
      if (view.readsEverything(principal)) return frames;
      const accessOf = view.accessOf(principal);
      const mapOf = (kind: "query" | "search", id: string) => {
        const map = (kind === "query" ? this.#queries : this.#searches).mapOf(conn, id);
        return typeof map === "string" ? map : undefined;
      };
      const out: Uint8Array[] = [];
      for (const frame of frames) {
        const message = decodeMessage(frame);
        const verdict = mayReceive(exposureOf(message, mapOf, (queryId) => this.#isDerivedQuery(conn, queryId)), accessOf);
        if (verdict === "yes") out.push(frame);
        else if (verdict === "without-value" && isRecord(message) && isRecord(message.payload)) {
          out.push(encodeMessage({ ...message, payload: { ...message.payload, value: null } }));
        }
      }
      return out;
    };
  }
}
