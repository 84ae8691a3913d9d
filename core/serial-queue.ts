/**
 * Runs tasks one after another per key (a connection id), so a connection's messages are handled in arrival
 * order even while a handler awaits an RPC. In memory only: a hibernated object has no pending tasks.
 */
export class SerialQueue {
  readonly #tails = new Map<string, Promise<void>>();

  run(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.then(task).catch((err: unknown) => console.error("[session] task failed", err));
    this.#tails.set(key, next);
    void next.then(() => {
      if (this.#tails.get(key) === next) this.#tails.delete(key);
    });
    return next;
  }

  /** Resolves once no task (on any key) is queued or running. */
  async settled(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values());
  }
}
