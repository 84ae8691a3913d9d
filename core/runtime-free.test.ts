import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// core/ is shared by the server and the client: it may import only itself and the runtime-free libraries below.
const ALLOWED_PACKAGES = new Set(["msgpackr", "zod/mini", "zod/locales", "vitest", "@cfworker/json-schema"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

describe("core/", () => {
  it("imports no runtime module and nothing outside core", () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(join(import.meta.dirname))) {
      for (const match of readFileSync(file, "utf8").matchAll(/^\s*(?:import|export)[^"']*from\s+["']([^"']+)["']/gm)) {
        const specifier = match[1] ?? "";
        const isLocal = specifier.startsWith("./") || (specifier.startsWith("../") && !specifier.includes("../../"));
        const fine = specifier.startsWith(".") ? isLocal && !/objects|worker|client|test/.test(specifier) : ALLOWED_PACKAGES.has(specifier);
        if (!fine) offenders.push(`${file}: ${specifier}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
