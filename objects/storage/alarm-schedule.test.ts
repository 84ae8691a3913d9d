import { describe, expect, it } from "vitest";
import { AlarmSchedule, type AlarmStorage } from "./alarm-schedule.ts";
import { deferred } from "../../test/support/deferred.ts";

/** Storage with one alarm that counts its calls; `fire` clears the alarm as the runtime does when it runs it. */
function countingStorage(initial: number | null = null) {
  const storage = {
    alarm: initial,
    gets: 0,
    sets: 0,
    async getAlarm() {
      storage.gets++;
      return storage.alarm;
    },
    async setAlarm(at: number) {
      storage.sets++;
      storage.alarm = at;
    },
  };
  return storage;
}

describe("AlarmSchedule", () => {
  it("sets the alarm when none is set", async () => {
    const storage = countingStorage();
    await new AlarmSchedule(storage).request(5_000);
    expect(storage.alarm).toBe(5_000);
  });

  it("keeps an earlier alarm that was set before this object woke", async () => {
    const storage = countingStorage(1_000);
    await new AlarmSchedule(storage).request(5_000);
    expect(storage.alarm).toBe(1_000);
    expect(storage.sets).toBe(0);
  });

  it("moves the alarm earlier without reading it again", async () => {
    const storage = countingStorage();
    const schedule = new AlarmSchedule(storage);
    await schedule.request(5_000);
    await schedule.request(2_000);
    expect(storage.alarm).toBe(2_000);
    expect(storage.gets).toBe(1);
  });

  it("answers a request for the armed time or later from memory, with no storage call", async () => {
    const storage = countingStorage();
    const schedule = new AlarmSchedule(storage);
    await schedule.request(5_000);
    await schedule.request(5_000);
    await schedule.request(9_000);
    expect(storage).toMatchObject({ alarm: 5_000, gets: 1, sets: 1 });
  });

  it("reads storage again after the alarm fired, so a later request arms it again", async () => {
    const storage = countingStorage();
    const schedule = new AlarmSchedule(storage);
    await schedule.request(5_000);
    storage.alarm = null;
    schedule.fired();
    await schedule.request(9_000);
    expect(storage.alarm).toBe(9_000);
  });

  it("does not remember an alarm it read just before that alarm fired", async () => {
    const storage = countingStorage(1_000);
    const reading = deferred<void>();
    const read = deferred<void>();
    const schedule = new AlarmSchedule({
      getAlarm: async () => {
        const at = storage.alarm;
        reading.resolve();
        await read.promise;
        return at;
      },
      setAlarm: (at) => storage.setAlarm(at),
    } satisfies AlarmStorage);
    const pending = schedule.request(5_000);
    await reading.promise;
    storage.alarm = null;
    schedule.fired();
    read.resolve();
    await pending;
    await schedule.request(9_000);
    expect(storage.alarm).toBe(9_000);
  });

  it("sets nothing when a request fails, and asks storage again on the next one", async () => {
    const storage = countingStorage();
    let failing = true;
    const schedule = new AlarmSchedule({
      getAlarm: () => storage.getAlarm(),
      setAlarm: async (at) => {
        if (failing) throw new Error("storage unavailable");
        await storage.setAlarm(at);
      },
    });
    await expect(schedule.request(5_000)).rejects.toThrow("storage unavailable");
    failing = false;
    await schedule.request(5_000);
    expect(storage.alarm).toBe(5_000);
  });

  it("keeps the earliest of two requests made in the same turn", async () => {
    const storage = countingStorage();
    const schedule = new AlarmSchedule(storage);
    await Promise.all([schedule.request(9_000), schedule.request(4_000)]);
    expect(storage.alarm).toBe(4_000);
  });
});
