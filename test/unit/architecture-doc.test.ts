import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/import-graph.ts";

/** Repo paths named in backticks: a top folder (`core/`) or anything under one of the repo's folders. */
function namedPaths(markdown: string): string[] {
  const tops = ["core", "objects", "worker", "client", "lab", "migrations", "bench", "test", "scripts", "docs"];
  return [...markdown.matchAll(/`([^`\s]+)`/g)]
    .map((match) => (match[1] ?? "").replace(/\*$/, ""))
    .filter((path) => tops.some((top) => path === `${top}/` || path.startsWith(`${top}/`)));
}

describe("docs/architecture.md", () => {
  const doc = readFileSync(join(REPO_ROOT, "docs", "architecture.md"), "utf8");

  it("names only paths that exist", () => {
    expect(namedPaths(doc).filter((path) => !existsSync(join(REPO_ROOT, path)))).toEqual([]);
  });

  it("opens with the map of the house naming every folder of objects/", () => {
    const map = doc.slice(0, doc.indexOf("## Roles of a partition"));
    for (const folder of ["session", "writes", "sync", "queries", "search", "journal", "coordination", "delivery", "persistence", "storage"]) {
      expect(map).toContain(`objects/${folder}/`);
    }
  });
});
