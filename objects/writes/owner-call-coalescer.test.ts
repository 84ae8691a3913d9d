import { describe, expect, it } from "vitest";
import { OwnerCallCoalescer } from "./owner-call-coalescer.ts";
import type { ApplyRequest, OwnerOpOutcome, WriteOwner } from "./owner-op.ts";

/** An owner whose calls stay open until released, recording each call's requests. */
function heldOwner(options: { failing?: boolean } = {}) {
  const calls: { kind: "apply" | "applyBatches"; conns: string[] }[] = [];
  const waiting: (() => void)[] = [];
  const answer = (r: ApplyRequest): OwnerOpOutcome[] => r.ops.map((op) => ({ index: op.index, ok: true }));
  const held = async <T>(value: () => T): Promise<T> => {
    await new Promise<void>((resolve) => waiting.push(resolve));
    if (options.failing) throw new Error("owner unavailable");
    return value();
  };
  const owner: WriteOwner = {
    apply: (request) => {
      calls.push({ kind: "apply", conns: [request.writer.conn] });
      return held(() => answer(request));
    },
    applyBatches: ({ requests }) => {
      calls.push({ kind: "applyBatches", conns: requests.map((r) => r.writer.conn) });
      return held(() => requests.map(answer));
    },
    process: async () => ({}),
  };
  const releaseAll = async () => {
    while (waiting.length > 0) {
      for (const release of waiting.splice(0)) release();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  };
  return { owner, calls, releaseAll };
}

const request = (conn: string, index = 0): ApplyRequest => ({
  ops: [{ index, type: "PUT", map: "m", key: conn, record: { value: 1, timestamp: { millis: 1, counter: 0, nodeId: conn } } }],
  writer: { home: 1, conn },
});

describe("OwnerCallCoalescer", () => {
  it("sends the requests that queued behind a call to one owner in one next call, in order", async () => {
    const { owner, calls, releaseAll } = heldOwner();
    const coalescer = new OwnerCallCoalescer(() => owner);
    const answers = Promise.all(["a", "b", "c", "d"].map((conn, i) => coalescer.owner(7).apply(request(conn, i))));
    await releaseAll();
    expect(calls).toEqual([
      { kind: "apply", conns: ["a"] },
      { kind: "applyBatches", conns: ["b", "c", "d"] },
    ]);
    expect((await answers).map((outcomes) => outcomes.map((o) => o.index))).toEqual([[0], [1], [2], [3]]);
  });

  it("keeps calls to different owners apart", async () => {
    const { owner, calls, releaseAll } = heldOwner();
    const coalescer = new OwnerCallCoalescer(() => owner);
    const answers = Promise.all([coalescer.owner(1).apply(request("a")), coalescer.owner(2).apply(request("b"))]);
    await releaseAll();
    await answers;
    expect(calls).toEqual([{ kind: "apply", conns: ["a"] }, { kind: "apply", conns: ["b"] }]);
  });

  it("rejects every request of a failed call", async () => {
    const failing = heldOwner({ failing: true });
    const coalescer = new OwnerCallCoalescer(() => failing.owner);
    const first = coalescer.owner(3).apply(request("a"));
    const queued = coalescer.owner(3).apply(request("b"));
    const settled = Promise.allSettled([first, queued]);
    await failing.releaseAll();
    expect((await settled).map((r) => r.status)).toEqual(["rejected", "rejected"]);
  });

  it("keeps at most maxInFlight calls in flight across owners; waiting owners take all their queued requests in one call", async () => {
    const { owner, calls, releaseAll } = heldOwner();
    const coalescer = new OwnerCallCoalescer(() => owner, { maxInFlight: 2 });
    const answers = Promise.all([
      coalescer.owner(1).apply(request("a")),
      coalescer.owner(2).apply(request("b")),
      coalescer.owner(3).apply(request("c")),
      coalescer.owner(4).apply(request("d")),
      coalescer.owner(3).apply(request("e")),
    ]);
    expect(calls).toEqual([{ kind: "apply", conns: ["a"] }, { kind: "apply", conns: ["b"] }]);
    await releaseAll();
    await answers;
    // Owner 3 waited before owner 4 (its first request came first), and meanwhile its second request joined.
    expect(calls.slice(2)).toEqual([{ kind: "applyBatches", conns: ["c", "e"] }, { kind: "apply", conns: ["d"] }]);
  });

  it("starts the next waiting owner's call when a call fails", async () => {
    const failing = heldOwner({ failing: true });
    const coalescer = new OwnerCallCoalescer(() => failing.owner, { maxInFlight: 1 });
    const settled = Promise.allSettled([coalescer.owner(1).apply(request("a")), coalescer.owner(2).apply(request("b"))]);
    await failing.releaseAll();
    expect((await settled).map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(failing.calls.map((c) => c.conns)).toEqual([["a"], ["b"]]);
  });
});
