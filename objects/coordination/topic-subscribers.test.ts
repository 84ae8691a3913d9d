import { describe, expect, it } from "vitest";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { applySchema } from "../storage/schema.ts";
import type { SqlPort } from "../storage/sql-port.ts";
import { TopicSubscribers } from "./topic-subscribers.ts";

const bob = { home: 5, conn: "bob" };
const carol = { home: 7, conn: "carol" };
const dave = { home: 7, conn: "dave" };

/** A schema'd store with a count of the SELECTs of topic_sub run through it. */
function setup() {
  const base = nodeSqlPort();
  applySchema(base);
  let reads = 0;
  const sql: SqlPort = {
    ...base,
    exec: (query, ...bindings) => {
      if (query.startsWith("SELECT home, conn FROM topic_sub")) reads += 1;
      return base.exec(query, ...bindings);
    },
  };
  return { sql, reads: () => reads };
}

const sorted = (refs: { home: number; conn: string }[]) => refs.map((r) => `${r.home}/${r.conn}`).sort();

describe("TopicSubscribers", () => {
  it("reads a topic's subscribers from SQLite once, then from memory", () => {
    const { sql, reads } = setup();
    const subscribers = new TopicSubscribers(sql);
    subscribers.add("t", bob);

    subscribers.of("t");
    subscribers.of("t");

    expect(sorted(subscribers.of("t"))).toEqual(["5/bob"]);
    expect(reads()).toBe(1);
  });

  it("sees a subscribe, an unsubscribe and a dropped connection of a topic it holds", () => {
    const { sql } = setup();
    const subscribers = new TopicSubscribers(sql);
    subscribers.add("t", bob);
    subscribers.add("u", carol);
    subscribers.of("t");
    subscribers.of("u");

    subscribers.add("t", carol);
    subscribers.add("t", dave);
    subscribers.remove("t", bob);
    subscribers.dropConnection(carol);

    expect(sorted(subscribers.of("t"))).toEqual(["7/dave"]);
    expect(subscribers.of("u")).toEqual([]);
  });

  it("reads the subscriptions an earlier life of the object stored (after eviction)", () => {
    const { sql } = setup();
    const before = new TopicSubscribers(sql);
    before.add("t", bob);
    before.of("t");
    before.add("t", carol);

    expect(sorted(new TopicSubscribers(sql).of("t"))).toEqual(["5/bob", "7/carol"]);
  });

  it("holds at most its bound of connections, forgetting the least recently published topic first", () => {
    const { sql, reads } = setup();
    const subscribers = new TopicSubscribers(sql, 2);
    subscribers.add("old", bob);
    subscribers.add("recent", carol);
    subscribers.add("new", dave);
    subscribers.of("old");
    subscribers.of("recent");
    subscribers.of("old");

    subscribers.of("new");
    const afterFill = reads();
    subscribers.of("old");
    subscribers.of("recent");

    expect(reads() - afterFill).toBe(1);
    expect(sorted(subscribers.of("recent"))).toEqual(["7/carol"]);
  });

  it("reads a topic with more subscribers than its bound from SQLite on every publish", () => {
    const { sql, reads } = setup();
    const subscribers = new TopicSubscribers(sql, 1);
    subscribers.add("t", bob);
    subscribers.add("t", carol);

    subscribers.of("t");
    const all = subscribers.of("t");

    expect(sorted(all)).toEqual(["5/bob", "7/carol"]);
    expect(reads()).toBe(2);
  });

  it("stops holding a topic that subscriptions grow past its bound, and still answers all of them", () => {
    const { sql, reads } = setup();
    const subscribers = new TopicSubscribers(sql, 1);
    subscribers.add("t", bob);
    subscribers.of("t");

    subscribers.add("t", carol);

    expect(sorted(subscribers.of("t"))).toEqual(["5/bob", "7/carol"]);
    expect(reads()).toBe(2);
  });
});
