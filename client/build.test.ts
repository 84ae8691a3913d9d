import { execFile } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Builds the package as `npm run build:client` does, into a scratch directory inside the repo (so the built files
// resolve `idb` from node_modules), and loads the entries package.json exports.
const ROOT = resolve(import.meta.dirname, "..");
const OUT_DIR = join(ROOT, "node_modules", ".cache", `client-build-${process.pid}`);
const TSC = join(ROOT, "node_modules", ".bin", "tsc");

/** package.json `exports` target under `dist/client/`, moved to the scratch directory. */
function built(target: string): string {
  return join(OUT_DIR, target.replace(/^\.\/dist\/client\//, ""));
}

const exportsField: Record<string, { types: string; import: string }> = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).exports;

beforeAll(async () => {
  await promisify(execFile)(TSC, ["-p", join(ROOT, "client", "tsconfig.json"), "--outDir", OUT_DIR], { cwd: ROOT });
}, 60_000);

afterAll(() => rmSync(OUT_DIR, { recursive: true, force: true }));

describe("the client package build", () => {
  it("emits the JavaScript and declarations every package.json export names", () => {
    const targets = Object.values(exportsField).flatMap((entry) => [entry.import, entry.types]);

    expect(targets.filter((target) => !existsSync(built(target)))).toEqual([]);
  });

  it("exports TopGunClient from the built ESM entry when loaded by Node", async () => {
    const entry = exportsField["./client"]?.import ?? "";

    const module: Record<string, unknown> = await import(pathToFileURL(built(entry)).href);

    expect(typeof module.TopGunClient).toBe("function");
    expect(typeof module.MemoryAdapter).toBe("function");
  });

  it("exports the React bindings from the built react entry", async () => {
    const entry = exportsField["./react"]?.import ?? "";

    const module: Record<string, unknown> = await import(pathToFileURL(built(entry)).href);

    expect(typeof module.TopGunProvider).toBe("function");
    expect(typeof module.useQuery).toBe("function");
  });
});
