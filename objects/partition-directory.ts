import { partitionObjectName } from "../core/object-name.ts";

/** The stub of partition `id` of `namespace` in the Partition namespace binding. */
export function partitionStub<T extends Rpc.DurableObjectBranded | undefined>(
  binding: DurableObjectNamespace<T>,
  namespace: string,
  id: number,
): DurableObjectStub<T> {
  return binding.get(binding.idFromName(partitionObjectName(namespace, id)));
}

/**
 * Ports to other partitions (typed wrappers over their stubs), made once per partition and reused: making a stub
 * (idFromName hashes the name) and its wrapper cost more than a small owner call. Reusing one stub also keeps the
 * calls to a partition in order (E-order). A stub that threw may fail every later call (Cloudflare's stub API), so
 * a port whose call failed is dropped and the next call makes a new one. At most one port per partition (271).
 */
export class PartitionPorts<P extends object> {
  readonly #ports = new Map<number, P>();
  readonly #make: (partition: number) => P;

  constructor(make: (partition: number) => P) {
    this.#make = make;
  }

  get(partition: number): P {
    const known = this.#ports.get(partition);
    if (known) return known;
    const port = dropOnFailure(this.#make(partition), () => {
      if (this.#ports.get(partition) === port) this.#ports.delete(partition);
    });
    this.#ports.set(partition, port);
    return port;
  }
}

/**
 * The port with each method calling `dropped` when its call fails (the error still reaches the caller). A stub's RPC
 * call answers workerd's own RPC promise, so any thenable counts, not only a native Promise; a method that throws at
 * once counts too.
 */
function dropOnFailure<P extends object>(port: P, dropped: () => void): P {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(port)) {
    wrapped[name] =
      typeof method === "function"
        ? (...args: unknown[]) => {
            let result: unknown;
            try {
              result = method(...args);
            } catch (err) {
              dropped();
              throw err;
            }
            return isThenable(result)
              ? Promise.resolve(result).catch((err: unknown) => {
                  dropped();
                  throw err;
                })
              : result;
          }
        : method;
  }
  return wrapped as P;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null && typeof (value as { then?: unknown }).then === "function";
}
