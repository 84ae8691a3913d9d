import type { ApplyRequest, OwnerOpOutcome, WriteOwner } from "./owner-op.ts";

interface Queued {
  request: ApplyRequest;
  resolve: (outcomes: OwnerOpOutcome[]) => void;
  reject: (err: unknown) => void;
}

/** Requests one coalesced call carries at most (one RPC's arguments stay far below the runtime's limits). */
const MAX_REQUESTS_PER_CALL = 64;

/**
 * Home role: the write calls to one owner, coalesced across batches and connections. While a call to an owner is
 * in flight, later requests for it queue, and the next call carries all of them (`applyBatches`: one RPC, applied
 * in order). A sharded batch touches ~85 of 271 owners, so with several connections writing most owners already
 * have a call in flight and the calls per op fall with the load. Requests to one owner keep their order, so a
 * connection's writes reach each owner in the order it sent them.
 */
export class OwnerCallCoalescer {
  readonly #owners: (partition: number) => WriteOwner;
  readonly #queues = new Map<number, Queued[]>();
  readonly #busy = new Set<number>();

  constructor(owners: (partition: number) => WriteOwner) {
    this.#owners = owners;
  }

  /** The owner port of `partition` with `apply` coalesced (other calls pass through). */
  owner(partition: number): WriteOwner {
    const owner = this.#owners(partition);
    return {
      apply: (request) => this.#apply(partition, request),
      applyBatches: (request) => owner.applyBatches(request),
      process: (request) => owner.process(request),
    };
  }

  #apply(partition: number, request: ApplyRequest): Promise<OwnerOpOutcome[]> {
    return new Promise((resolve, reject) => {
      const queue = this.#queues.get(partition);
      if (queue) queue.push({ request, resolve, reject });
      else this.#queues.set(partition, [{ request, resolve, reject }]);
      if (!this.#busy.has(partition)) void this.#drain(partition);
    });
  }

  async #drain(partition: number): Promise<void> {
    this.#busy.add(partition);
    try {
      for (;;) {
        const queue = this.#queues.get(partition);
        if (!queue || queue.length === 0) return;
        const calls = queue.splice(0, MAX_REQUESTS_PER_CALL);
        if (queue.length === 0) this.#queues.delete(partition);
        await this.#call(partition, calls);
      }
    } finally {
      this.#busy.delete(partition);
    }
  }

  async #call(partition: number, calls: readonly Queued[]): Promise<void> {
    const owner = this.#owners(partition);
    try {
      const [only] = calls;
      if (calls.length === 1 && only) {
        only.resolve(await owner.apply(only.request));
        return;
      }
      const answers = await owner.applyBatches({ requests: calls.map((c) => c.request) });
      calls.forEach((call, i) => call.resolve(answers[i] ?? []));
    } catch (err) {
      for (const call of calls) call.reject(err);
    }
  }
}
