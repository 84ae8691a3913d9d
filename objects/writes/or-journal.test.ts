import { describe, expect, it } from "vitest";
import { HLC } from "../../core/hlc.ts";
import type { ORMapRecord } from "../../core/or-record.ts";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { CrdtWriter } from "./crdt-writer.ts";
import { EventFanout } from "../delivery/event-fanout.ts";
import { InterestRegistry } from "../delivery/interest-registry.ts";
import { JournalService } from "../journal/journal-service.ts";
import { LwwStore } from "./lww-store.ts";
import { MerkleStore } from "./merkle-store.ts";
import { Outbox } from "../persistence/outbox.ts";
import type { OwnerOp } from "./owner-op.ts";
import { OwnerService } from "../owner-service.ts";
import { OrStore } from "./or-store.ts";
import { QueryService } from "../queries/query-service.ts";
import { applySchema } from "../storage/schema.ts";

const alice = { home: 7, conn: "alice" };

/** An outbox whose append fails, so the write's transaction rolls back. */
class FailingOutbox extends Outbox {
  override append(): void {
    throw new Error("outbox unavailable");
  }
}

function setup(options: { outbox?: (sql: ReturnType<typeof nodeSqlPort>) => Outbox } = {}) {
  const sql = nodeSqlPort();
  applySchema(sql);
  const merkle = new MerkleStore(sql);
  const lww = new LwwStore(sql, merkle);
  const or = new OrStore(sql, merkle);
  const journal = new JournalService({ sql, partition: 5, deliver: async () => [], clock: () => 1_000 });
  const hlc = new HLC("edge-p5", { clock: () => 1_000 });
  const outbox = options.outbox?.(sql);
  const writer = new CrdtWriter({ sql, lww, or, merkle, hlc, journal, ...(outbox ? { outbox } : {}) });
  const interest = new InterestRegistry(sql);
  const owner = new OwnerService({
    sql, writer, lww, or, merkle, interest, hlc, journal,
    fanout: new EventFanout(interest, async () => []),
    deliver: async () => [],
    queries: new QueryService({ sql, lww, interest, deliver: async () => [] }),
  });
  let millis = 100;
  const record = (tag: string, value: unknown): ORMapRecord => ({ value, tag, timestamp: { millis: millis++, counter: 0, nodeId: "w" } });
  const add = (key: string, tag: string, value: unknown): OwnerOp => ({ index: 0, type: "OR_ADD", map: "tags", key, record: record(tag, value) });
  const remove = (key: string, tag: string): OwnerOp => ({ index: 0, type: "OR_REMOVE", map: "tags", key, tag });
  const write = (...ops: OwnerOp[]) => owner.apply({ ops: ops.map((o, index) => ({ ...o, index })), writer: alice });
  const events = () => journal.read({ fromSequence: "0", limit: 100 }).map((e) => [e.type, e.key, e.value, e.previousValue]);
  return { sql, owner, or, journal, record, add, remove, write, events };
}

describe("OR-Map journal", () => {
  it("journals each changed key with its values after and before: PUT, UPDATE, DELETE", async () => {
    const { write, add, remove, events } = setup();
    await write(add("k", "t1", "a"));
    await write(add("k", "t2", "b"));
    await write(remove("k", "t1"));
    await write(remove("k", "t2"));

    expect(events()).toEqual([
      ["PUT", "k", ["a"], undefined],
      ["UPDATE", "k", ["a", "b"], ["a"]],
      ["UPDATE", "k", ["b"], ["a", "b"]],
      ["DELETE", "k", undefined, ["b"]],
    ]);
  });

  it("journals the ops of one batch in order, each against the state the previous op left", async () => {
    const { write, add, remove, events } = setup();

    await write(add("k", "t1", "a"), add("k", "t2", "b"), remove("k", "t1"));

    expect(events()).toEqual([
      ["PUT", "k", ["a"], undefined],
      ["UPDATE", "k", ["a", "b"], ["a"]],
      ["UPDATE", "k", ["b"], ["a", "b"]],
    ]);
  });

  it("does not journal an add of a tombstoned tag or a remove of an unknown tag", async () => {
    const { write, add, remove, events } = setup();
    await write(add("k", "t1", "a"), remove("k", "t1"));
    const before = events().length;

    await write(add("k", "t1", "again"), remove("k", "never-added"));

    expect(events()).toHaveLength(before);
  });

  it("stamps an add's event with the record's timestamp and writer node", async () => {
    const { write, record, journal } = setup();
    const added = record("t1", "a");

    await write({ index: 0, type: "OR_ADD", map: "tags", key: "k", record: added });

    const [event] = journal.read({ fromSequence: "0", limit: 1 });
    expect([event?.timestamp, event?.nodeId]).toEqual([added.timestamp, "w"]);
  });

  it("journals ORMAP_PUSH_DIFF merges per changed key, tombstones included", async () => {
    const { owner, write, add, record, events } = setup();
    await write(add("k", "t1", "a"));

    await owner.pushOrDiff({
      map: "tags",
      entries: [
        { key: "k", records: [record("t2", "b")], tombstones: ["t1"] },
        { key: "fresh", records: [record("t3", "c")], tombstones: [] },
        { key: "same", records: [], tombstones: [] },
      ],
      writer: alice,
    });

    expect(events()).toEqual([
      ["PUT", "k", ["a"], undefined],
      ["UPDATE", "k", ["b"], ["a"]],
      ["PUT", "fresh", ["c"], undefined],
    ]);
  });

  it("journals nothing for a push that changes nothing", async () => {
    const { owner, write, add, or, events } = setup();
    await write(add("k", "t1", "a"));
    const [entry] = or.readKeys("tags", ["k"]);

    await owner.pushOrDiff({ map: "tags", entries: [entry!], writer: alice });

    expect(events()).toHaveLength(1);
  });

  it("writes the journal event in the write's transaction: a rolled-back OR write leaves no event", async () => {
    const { write, add, or, journal } = setup({ outbox: (sql) => new FailingOutbox(sql) });

    await expect(write(add("k", "t1", "a"))).rejects.toThrow("outbox unavailable");

    expect(or.readKeys("tags", ["k"])[0]?.records).toEqual([]);
    expect(journal.read({ fromSequence: "0", limit: 10 })).toEqual([]);
  });
});
