import { partitionObjectName } from "../core/object-name.ts";
import type { Env } from "./env.ts";

/** The stub of partition `id` of `namespace`. */
export function partitionStub(env: Env, namespace: string, id: number) {
  return env.PARTITION.get(env.PARTITION.idFromName(partitionObjectName(namespace, id)));
}
