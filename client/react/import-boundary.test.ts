import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The React bindings ship beside the client: they may import react (a peer dependency), client/ and core/.
// client/import-boundary.test.ts checks only .ts files, so the .tsx files here are checked by this test.
const ALLOWED_PACKAGES = new Set(["react"]);
const REACT_DIR = import.meta.dirname;
const CLIENT_DIR = resolve(REACT_DIR, "..");
const CORE_DIR = resolve(CLIENT_DIR, "..", "core");

function shippedFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "testing" ? [] : shippedFiles(path);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

describe("client/react/", () => {
  it("imports only react, client/ and core/ in the files it ships", () => {
    const offenders: string[] = [];
    for (const file of shippedFiles(REACT_DIR)) {
      for (const match of readFileSync(file, "utf8").matchAll(/^\s*(?:import|export)[^"']*from\s+["']([^"']+)["']/gm)) {
        const specifier = match[1] ?? "";
        if (!specifier.startsWith(".")) {
          if (!ALLOWED_PACKAGES.has(specifier)) offenders.push(`${file}: ${specifier}`);
          continue;
        }
        const target = resolve(file, "..", specifier);
        const inside = (dir: string) => !relative(dir, target).startsWith("..");
        if (!inside(CLIENT_DIR) && !inside(CORE_DIR)) offenders.push(`${file}: ${specifier}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
