import { DEFAULT_NAMESPACE, isValidNamespace } from "../core/object-name.ts";
import { PARTITION_COUNT, partitionOfName, partitionOfShard } from "../core/placement.ts";

/**
 * The home partition of a new connection: the partition of the map named in the URL (`?map=`), so a one-map app
 * needs no hop; else the hash of the client id (`?clientId=`), so a client keeps its home across reconnects; else
 * random.
 */
export function chooseHomePartition(url: URL, random: () => number = Math.random): number {
  const map = url.searchParams.get("map");
  if (map) return partitionOfShard(map, 0);
  const clientId = url.searchParams.get("clientId") ?? url.searchParams.get("nodeId");
  if (clientId) return partitionOfName(clientId);
  return Math.floor(random() * PARTITION_COUNT);
}

/** The namespace of a request (`?namespace=`), the default one when absent, undefined when invalid. */
export function readNamespace(url: URL): string | undefined {
  const namespace = url.searchParams.get("namespace") ?? DEFAULT_NAMESPACE;
  return isValidNamespace(namespace) ? namespace : undefined;
}
