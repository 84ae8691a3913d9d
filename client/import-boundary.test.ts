import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The client runs in browsers and Node: it may import itself, core/ and `idb`, never objects/, worker/ or a runtime.
const ALLOWED_PACKAGES = new Set(["idb"]);
const CLIENT_DIR = import.meta.dirname;
const CORE_DIR = resolve(CLIENT_DIR, "..", "core");

function shippedFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "testing" ? [] : shippedFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") && !entry.name.endsWith("-contract.ts") ? [path] : [];
  });
}

describe("client/", () => {
  it("imports only client/, core/ and idb in the files it ships", () => {
    const offenders: string[] = [];
    for (const file of shippedFiles(CLIENT_DIR)) {
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
