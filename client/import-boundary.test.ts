import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The client runs in browsers and Node: it may import itself, core/, `idb` and `@msgpack/msgpack`, never objects/, worker/ or a runtime.
// The React bindings (client/react/) ship beside it and may also import react, a peer dependency.
const CLIENT_DIR = import.meta.dirname;
const REACT_DIR = join(CLIENT_DIR, "react");
const CORE_DIR = resolve(CLIENT_DIR, "..", "core");

const inside = (dir: string, path: string) => !relative(dir, path).startsWith("..");

function shippedFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "testing" ? [] : shippedFiles(path);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) && !entry.name.endsWith("-contract.ts") ? [path] : [];
  });
}

/** The imports of the shipped files under `dir` that break the rule: packages not in `packages`, or paths outside client/ and core/. */
function offenders(dir: string, packages: (file: string) => ReadonlySet<string>): string[] {
  const found: string[] = [];
  for (const file of shippedFiles(dir)) {
    for (const match of readFileSync(file, "utf8").matchAll(/^\s*(?:import|export)[^"']*from\s+["']([^"']+)["']/gm)) {
      const specifier = match[1] ?? "";
      if (!specifier.startsWith(".")) {
        if (!packages(file).has(specifier)) found.push(`${file}: ${specifier}`);
        continue;
      }
      const target = resolve(file, "..", specifier);
      if (!inside(CLIENT_DIR, target) && !inside(CORE_DIR, target)) found.push(`${file}: ${specifier}`);
    }
  }
  return found;
}

describe("client/", () => {
  it("imports only client/, core/ and idb in the files it ships, and react only in client/react/", () => {
    const clientOnly = new Set(["idb", "@msgpack/msgpack"]);
    const withReact = new Set(["idb", "@msgpack/msgpack", "react"]);
    expect(offenders(CLIENT_DIR, (file) => (inside(REACT_DIR, file) ? withReact : clientOnly))).toEqual([]);
  });

  it("finds the React bindings' .tsx files (so the rule above reads them)", () => {
    expect(shippedFiles(REACT_DIR).some((file) => file.endsWith(".tsx"))).toBe(true);
  });
});
