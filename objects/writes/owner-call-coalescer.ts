import type { ApplyRequest, OwnerOpOutcome, WriteOwner } from "./owner-op.ts";

interface Queued {
  request: ApplyRequest;
  resolve: (outcomes: OwnerOpOutcome[]) => void;
  reject: (err: unknown) => void;
}

/** Requests one coalesced call carries at most (one RPC's arguments stay far below the runtime's limits). */
const MAX_REQUESTS_PER_CALL = 64;
/**
 * Write calls one home has in flight to all owners together. An owner call has a fixed cost (the RPC, the owner's
 * transaction and its first row write: ~1 ms of CPU locally, whatever it carries); when every owner has a call in
 * flight, the calls carry 1–4 ops each and those fixed costs are all the home achieves. With a cap, owners wait
 * their turn while their requests pile up, so each call carries more and the calls per op fall with the load.
 * 16 calls in flight still keep 16 owners (on as many machines in production) busy at once.
 */
export const MAX_CALLS_IN_FLIGHT = 16;

/**
 * Home role: the write calls to owners, coalesced across batches and connections. Requests to one owner queue;
 * each call to it carries all that queued (`applyBatches`: one RPC, applied in order), and an owner has at most one
 * call in flight, so a connection's writes reach each owner in the order it sent them. At most `maxInFlight` calls
 * run at once across owners; owners get their turn in the order their oldest waiting request arrived (FIFO, so no
 * owner starves), and meanwhile more of their requests join the call.
 */
export class OwnerCallCoalescer {
  readonly #owners: (partition: number) => WriteOwner;
  readonly #maxInFlight: number;
  readonly #queues = new Map<number, Queued[]>();
  readonly #busy = new Set<number>();
  /** Owners with queued requests and no call in flight, oldest waiting first (a Set keeps insertion order). */
  readonly #waiting = new Set<number>();

  constructor(owners: (partition: number) => WriteOwner, options: { maxInFlight?: number } = {}) {
    this.#owners = owners;
    this.#maxInFlight = options.maxInFlight ?? MAX_CALLS_IN_FLIGHT;
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
      if (!this.#busy.has(partition)) this.#waiting.add(partition);
      this.#pump();
    });
  }

  /** Starts calls for waiting owners while there is room. */
  #pump(): void {
    for (const partition of this.#waiting) {
      if (this.#busy.size >= this.#maxInFlight) return;
      this.#waiting.delete(partition);
      const queue = this.#queues.get(partition);
      if (!queue || queue.length === 0) continue;
      const calls = queue.splice(0, MAX_REQUESTS_PER_CALL);
      if (queue.length === 0) this.#queues.delete(partition);
      this.#busy.add(partition);
      void this.#call(partition, calls).finally(() => {
        this.#busy.delete(partition);
        if (this.#queues.has(partition)) this.#waiting.add(partition);
        this.#pump();
      });
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
