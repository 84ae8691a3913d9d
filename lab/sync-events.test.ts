import { describe, expect, it } from "vitest";
import { SyncEventLog } from "./sync-events.ts";

describe("SyncEventLog", () => {
  it("returns the events of the window, oldest first, and forgets older ones", () => {
    let nowMs = 0;
    const log = new SyncEventLog(() => nowMs);
    log.record("Device A", "write", "Device A wrote title");
    nowMs = 20_000;
    log.record("Device A", "ack", "the server confirmed 1 write");
    nowMs = 35_000;

    expect(log.recent(30_000).map((event) => event.kind)).toEqual(["ack"]);
  });

  it("gives each device one lane in the order it joined", () => {
    const log = new SyncEventLog(() => 0);
    log.addDevice("this device");
    log.addDevice("Device A");
    log.addDevice("this device");

    expect(log.devices).toEqual(["this device", "Device A"]);
  });
});
