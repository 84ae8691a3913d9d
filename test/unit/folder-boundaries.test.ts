import { describe, expect, it } from "vitest";
import { boundaryViolations, folderRules, importGraph } from "../support/import-graph.ts";

describe("folder boundaries", () => {
  it("keeps every folder's imports within the `May import:` line of its README", () => {
    expect(boundaryViolations(folderRules(["objects", "worker"]), importGraph())).toEqual([]);
  });

  it("reads a rule for every capability folder of objects/ and for worker/", () => {
    const folders = folderRules(["objects", "worker"]).map((rule) => rule.folder).sort();
    expect(folders).toEqual([
      "objects",
      "objects/access",
      "objects/control",
      "objects/coordination",
      "objects/delivery",
      "objects/directory",
      "objects/expiry",
      "objects/http",
      "objects/journal",
      "objects/migration",
      "objects/persistence",
      "objects/placement",
      "objects/queries",
      "objects/search",
      "objects/session",
      "objects/sql",
      "objects/storage",
      "objects/sync",
      "objects/writes",
      "worker",
      "worker/routes",
    ]);
  });

  it("reports an import of a folder the rule does not allow, and not one it allows", () => {
    const rules = [{ folder: "objects/storage", allowed: ["core"] }];
    const graph = new Map([
      ["objects/storage/schema.ts", ["core/hash.ts", "objects/storage/sql-port.ts", "objects/persistence/outbox.ts"]],
      ["objects/storage/schema.test.ts", ["objects/persistence/outbox.ts"]],
    ]);
    expect(boundaryViolations(rules, graph)).toEqual(["objects/storage/schema.ts → objects/persistence/outbox.ts"]);
  });
});
