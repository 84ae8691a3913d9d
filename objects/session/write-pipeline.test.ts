import { describe, expect, it } from "vitest";
import { WritePipeline } from "./write-pipeline.ts";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const ticks = async (n = 10) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

describe("the write pipeline of a connection", () => {
  it("sends a later write's replies only after every earlier write was answered", async () => {
    const pipeline = new WritePipeline();
    const sent: string[] = [];
    const first = pipeline.begin("c", (m) => sent.push(String(m)));
    const second = pipeline.begin("c", (m) => sent.push(String(m)));
    const firstAnswer = deferred();
    first.finish(firstAnswer.promise);
    second.reply("ack 2");
    second.finish();
    await ticks();
    expect(sent).toEqual([]);
    first.reply("ack 1");
    firstAnswer.resolve();
    await ticks();
    expect(sent).toEqual(["ack 1", "ack 2"]);
  });

  it("lets a message that is not a write wait until the connection's writes were answered", async () => {
    const pipeline = new WritePipeline();
    const answer = deferred();
    pipeline.begin("c", () => {}).finish(answer.promise);
    let drained = false;
    void pipeline.drained("c").then(() => (drained = true));
    await ticks();
    expect(drained).toBe(false);
    answer.resolve();
    await ticks();
    expect(drained).toBe(true);
  });

  it("holds a connection to its limit of writes in flight, and frees a place when the oldest is answered", async () => {
    const pipeline = new WritePipeline(2);
    const answers = [deferred(), deferred()];
    for (const answer of answers) pipeline.begin("c", () => {}).finish(answer.promise);
    let room = false;
    void pipeline.room("c").then(() => (room = true));
    await ticks();
    expect(room).toBe(false);
    answers[0]!.resolve();
    await ticks();
    expect(room).toBe(true);
  });

  it("keeps connections apart: one connection's slow write does not hold another's replies", async () => {
    const pipeline = new WritePipeline();
    const sent: string[] = [];
    pipeline.begin("a", () => {}).finish(new Promise<void>(() => {}));
    const other = pipeline.begin("b", (m) => sent.push(String(m)));
    other.reply("ack b");
    other.finish();
    await ticks();
    expect(sent).toEqual(["ack b"]);
  });

  it("frees the lane of a write that failed, so the next write still answers", async () => {
    const pipeline = new WritePipeline();
    const sent: string[] = [];
    pipeline.begin("c", () => {}).finish(Promise.reject(new Error("owner gone")));
    const next = pipeline.begin("c", (m) => sent.push(String(m)));
    next.reply("ack");
    next.finish();
    await ticks();
    expect(sent).toEqual(["ack"]);
    await pipeline.drained("c");
  });
});
