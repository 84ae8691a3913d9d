// The control binding and stubs of a namespace's control object and partitions, for workerd tests of resharding.
import { env } from "cloudflare:test";
import { partitionObjectName } from "../../core/object-name.ts";
import { partitionsOfMap } from "../../core/placement.ts";
import { controlObjectName } from "../../objects/control/control.ts";

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
