// The control binding and stubs of a namespace's control object and partitions, for workerd tests of resharding.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { partitionObjectName } from "../../core/object-name.ts";
import { partitionsOfMap } from "../../core/placement.ts";
import { controlApi, controlObjectName } from "../../objects/control/control.ts";
import type { ReshardAnswer } from "../../objects/control/resharder.ts";

export function controlBinding() {
  if (!env.CONTROL) throw new Error("the test configuration binds CONTROL");
  return env.CONTROL;
}

/** The control object of namespace `ns`. */
export const controlStub = (ns: string) => controlBinding().get(controlBinding().idFromName(controlObjectName(ns)));

/** Partition `id` of namespace `ns`. */
export const partition = (ns: string, id: number) => env.PARTITION.get(env.PARTITION.idFromName(partitionObjectName(ns, id)));

/** The partitions of `map` at `shards` shards. */
export const placement = (map: string, shards: number) => partitionsOfMap(new Map([[map, shards]]), map);

/**
 * Drives the control object's alarm until the reshard of `map` running in namespace `ns` has ended (a move advances a
 * slice per alarm), and answers how it ended as the control object answers a reshard.
 */
export async function finishReshard(ns: string, map: string): Promise<ReshardAnswer> {
  const control = controlApi(controlBinding(), ns);
  for (;;) {
    const placement = await control.mapPlacement(map);
    const last = placement.lastReshard;
    if (!placement.reshard) {
      if (!last) throw new Error(`map ${map} of ${ns} has no reshard`);
      return last.result === "done"
        ? { status: "done", fromShards: last.fromShards, toShards: last.toShards }
        : { status: "refused", fromShards: last.fromShards, toShards: last.toShards, reason: last.reason ?? "refused" };
    }
    // No alarm pending means one is running now (the runtime fired it): look again once it has moved on.
    await runDurableObjectAlarm(controlStub(ns));
  }
}

/** Reshards `map` of namespace `ns` and, when the map's data is moved, drives the move to its end. */
export async function reshardToEnd(ns: string, map: string, shards: number): Promise<ReshardAnswer> {
  const answer = await controlApi(controlBinding(), ns).reshard({ map, shards });
  return answer.status === "running" ? finishReshard(ns, map) : answer;
}
