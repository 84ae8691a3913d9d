import { describe, expect, it } from "vitest";
import { nodeSqlPort } from "../../test/support/node-sql-port.ts";
import { MapDirectory } from "./map-directory.ts";

describe("MapDirectory", () => {
  it("lists each map once with the partitions that reported it, reports repeated or not", () => {
    const directory = new MapDirectory(nodeSqlPort());
    directory.report(7, ["todos", "notes"]);
    directory.report(7, ["todos"]);
    directory.report(3, ["todos"]);
    expect(directory.list()).toEqual([
      { name: "notes", partitions: [7] },
      { name: "todos", partitions: [3, 7] },
    ]);
  });
});
