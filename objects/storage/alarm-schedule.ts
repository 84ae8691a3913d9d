/** The part of Durable Object storage an alarm schedule uses. */
export interface AlarmStorage {
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTimeMs: number): Promise<void>;
}

/**
 * Asks for the Durable Object alarm at a time unless an earlier one is already set. A Durable Object has one alarm,
 * so features share it: each asks for its own next wake-up and `alarm()` lets each one check for work. Inside a
 * running `alarm()` the runtime reports no alarm (getAlarm is null until setAlarm is called), so re-arming there works.
 * Requests run one after another (never inside the caller's synchronous code, e.g. a transactionSync callback), so
 * two features asking at once cannot overwrite each other's earlier time.
 *
 * The schedule remembers the alarm it set or read, so a request for that time or later costs no storage call (an
 * owner of a sharded map asked getAlarm, and often setAlarm, twice per write round; each is a storage operation of
 * the runtime). What it remembers ends when the alarm starts (`fired`): the runtime has cleared the alarm then.
 * Every feature checks its own work on each alarm, so a request skipped just before an alarm fired is covered by
 * that alarm's run, which re-arms for whatever is left.
 */
export class AlarmSchedule {
  readonly #storage: AlarmStorage;
  #chain: Promise<void> = Promise.resolve();
  /** The time of the alarm known to be set; undefined when unknown (after a wake, or once the alarm fired). */
  #armedAt: number | undefined;
  /** Counts `fired` calls: a request that read the alarm before one must not record what it read. */
  #generation = 0;

  constructor(storage: AlarmStorage) {
    this.#storage = storage;
  }

  /** Asks for the alarm at `atMs` (or earlier: an alarm set for an earlier time stays). */
  request(atMs: number): Promise<void> {
    const run = this.#chain.then(async () => {
      if (this.#armedAt !== undefined && this.#armedAt <= atMs) return;
      const generation = this.#generation;
      const current = this.#armedAt ?? (await this.#storage.getAlarm());
      const armed = current === null || current > atMs ? atMs : current;
      if (armed === atMs && current !== atMs) await this.#storage.setAlarm(atMs);
      if (generation === this.#generation) this.#armedAt = armed;
    });
    this.#chain = run.catch(() => {});
    return run;
  }

  /** The alarm started: the runtime cleared it, so the next request reads storage again. */
  fired(): void {
    this.#generation++;
    this.#armedAt = undefined;
  }
}
