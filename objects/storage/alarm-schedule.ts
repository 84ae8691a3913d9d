/**
 * Asks for the Durable Object alarm at `atMs` unless an earlier one is already set. A Durable Object has one alarm,
 * so features share it: each asks for its own next wake-up and `alarm()` lets each one check for work. Inside a
 * running `alarm()` the runtime reports no alarm (getAlarm is null until setAlarm is called), so re-arming there works.
 * Requests through one schedule run one after another (never inside the caller's synchronous code, e.g. a
 * transactionSync callback), so two features asking at once cannot overwrite each other's earlier time.
 */
export function alarmSchedule(storage: DurableObjectStorage): (atMs: number) => Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  return (atMs) => {
    const run = chain.then(async () => {
      const current = await storage.getAlarm();
      if (current === null || current > atMs) await storage.setAlarm(atMs);
    });
    chain = run.catch(() => {});
    return run;
  };
}
