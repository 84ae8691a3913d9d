import { DEFAULT_NAMESPACE, isValidNamespace } from "../core/object-name.ts";
import { DEFAULT_HOME_PARTITIONS, homePartitionAt, homePartitionOfClient, partitionOfShard } from "../core/placement.ts";

/**
 * The home partition of a new connection: the partition of the map named in the URL (`?map=`), so a one-map app
 * needs no hop; else one of `homes` partitions (TOPGUN_HOME_PARTITIONS, default 16) by the hash of the client id
 * (`?clientId=`), so a client keeps its home across reconnects; else one of them at random. Few homes keep every
 * event's fan-out (one call per home with a subscriber) small.
 */
export function chooseHomePartition(url: URL, homes: number = DEFAULT_HOME_PARTITIONS, random: () => number = Math.random): number {
  const map = url.searchParams.get("map");
  if (map) return partitionOfShard(map, 0);
  const clientId = url.searchParams.get("clientId") ?? url.searchParams.get("nodeId");
  if (clientId) return homePartitionOfClient(clientId, homes);
  return homePartitionAt(Math.floor(random() * homes), homes);
}

/** The namespace of a request (`?namespace=`), the default one when absent, undefined when invalid. */
export function readNamespace(url: URL): string | undefined {
  const namespace = url.searchParams.get("namespace") ?? DEFAULT_NAMESPACE;
  return isValidNamespace(namespace) ? namespace : undefined;
}
