import { describe, expect, it } from "vitest";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { MapMoves } from "./map-move.ts";

const writes = (...keys: string[]) => keys.map((key) => ({ map: "m", key }));

describe("MapMoves", () => {
  it("notes the keys written to a tracked map, and none of other maps", () => {
    const moves = new MapMoves(nodeSqlPort());
    moves.noteWrites(writes("before"));
    moves.track("m");
    moves.noteWrites([...writes("a", "b"), { map: "other", key: "c" }]);
    expect(moves.dirtyPage("m", 10).keys.sort()).toEqual(["a", "b"]);
    expect(moves.dirtyPage("other", 10).keys).toEqual([]);
  });

  it("keeps a key written again after its page was read when the page is cleared", () => {
    const moves = new MapMoves(nodeSqlPort());
    moves.track("m");
    moves.noteWrites(writes("a", "b"));
    const page = moves.dirtyPage("m", 10);
    moves.noteWrites(writes("a"));
    moves.clearDirty("m", page.upToSeq);
    expect(moves.dirtyPage("m", 10).keys).toEqual(["a"]);
  });

  it("keeps its tracked maps and noted keys across a restart of the object", () => {
    const sql = nodeSqlPort();
    const moves = new MapMoves(sql);
    moves.track("m");
    moves.noteWrites(writes("a"));
    const again = new MapMoves(sql);
    again.noteWrites(writes("b"));
    expect(again.dirtyPage("m", 10).keys).toEqual(["a", "b"]);
  });

  it("holds a held map's callers until it is released, and lets other maps through at once", async () => {
    const moves = new MapMoves(nodeSqlPort());
    expect(moves.whenOpen(writes("a"))).toBeUndefined();
    moves.track("m");
    moves.hold("m");
    expect(moves.whenOpen([{ map: "other" }])).toBeUndefined();
    let released = false;
    const waiting = moves.whenOpen(writes("a"))?.then(() => (released = true));
    await Promise.resolve();
    expect(released).toBe(false);
    moves.release("m");
    await waiting;
    expect(released).toBe(true);
    expect(moves.isMoving("m")).toBe(false);
    expect(moves.dirtyPage("m", 10).keys).toEqual([]);
  });

  it("holds after a restart of the object while its map is held", () => {
    const sql = nodeSqlPort();
    new MapMoves(sql).hold("m");
    expect(new MapMoves(sql).whenOpen(writes("a"))).toBeInstanceOf(Promise);
  });
});
