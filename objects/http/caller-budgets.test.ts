import { describe, expect, it } from "vitest";
import { CallerBudgets } from "./caller-budgets.ts";

describe("CallerBudgets", () => {
  it("gives each caller its own bucket that refills at the rate, taking all of a cost or nothing", () => {
    const clock = { now: 0 };
    const budgets = new CallerBudgets({ clock: () => clock.now, ratePerSecond: 100, burst: 200 });
    expect(budgets.trySpend("alice", 150)).toBe(true);
    expect(budgets.trySpend("alice", 100)).toBe(false); // 50 left: nothing taken
    expect(budgets.trySpend("bob", 200)).toBe(true);
    clock.now = 500; // +50 tokens
    expect(budgets.trySpend("alice", 100)).toBe(true);
    expect(budgets.trySpend("alice", 1)).toBe(false);
  });

  it("charges at least 1 and at most the burst, so one request can always be paid by a full bucket", () => {
    const budgets = new CallerBudgets({ clock: () => 0, ratePerSecond: 10, burst: 20 });
    expect(budgets.trySpend("a", 1_000)).toBe(true);
    expect(budgets.trySpend("a", 0)).toBe(false);
  });

  it("forgets the least recently seen caller past its bound, who then starts full", () => {
    const budgets = new CallerBudgets({ clock: () => 0, ratePerSecond: 1, burst: 10, maxCallers: 2 });
    expect(budgets.trySpend("a", 10)).toBe(true);
    expect(budgets.trySpend("b", 10)).toBe(true);
    expect(budgets.trySpend("a", 1)).toBe(false); // a is now the most recent
    expect(budgets.trySpend("c", 10)).toBe(true); // forgets b
    expect(budgets.trySpend("a", 1)).toBe(false);
    expect(budgets.trySpend("b", 10)).toBe(true);
  });
});
