import { partitionObjectName } from "../core/object-name.ts";

/** The stub of partition `id` of `namespace` in the Partition namespace binding. */
export function partitionStub<T extends Rpc.DurableObjectBranded | undefined>(
  binding: DurableObjectNamespace<T>,
  namespace: string,
  id: number,
): DurableObjectStub<T> {
  return binding.get(binding.idFromName(partitionObjectName(namespace, id)));
}
