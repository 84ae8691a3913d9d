import { describe, expect, it } from "vitest";
import { attemptsText, durationText, pendingText, stateText } from "./status-text.ts";

describe("status words", () => {
  it("calls a device offline when its switch is off, whatever the client is doing", () => {
    expect(stateText("BACKOFF", false)).toBe("offline");
    expect(stateText("CONNECTED", true)).toBe("online");
    expect(stateText("BACKOFF", true)).toBe("server unreachable, retrying…");
  });

  it("counts pending writes in the singular and the plural", () => {
    expect(pendingText(0)).toBe("all writes confirmed");
    expect(pendingText(1)).toBe("1 write not yet confirmed");
    expect(pendingText(3)).toBe("3 writes not yet confirmed");
  });

  it("says nothing about retries until there is one", () => {
    expect(attemptsText(0)).toBe("");
    expect(attemptsText(1)).toBe("1 retry");
    expect(attemptsText(4)).toBe("4 retries");
  });

  it("shows durations no finer than the browser's 0.1 ms timer", () => {
    expect(durationText(0)).toBe("< 0.1 ms");
    expect(durationText(0.1)).toBe("0.1 ms");
    expect(durationText(0.149)).toBe("0.1 ms");
    expect(durationText(12.6)).toBe("13 ms");
    expect(durationText(12_345)).toBe("12.3 s");
  });
});
