import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/server-harness.ts";

const run = promisify(execFile);

describe("deployment", () => {
  it("builds the Worker bundle and the Sync Lab assets with wrangler deploy --dry-run", async () => {
    const outdir = await mkdtemp(join(tmpdir(), "topgun-deploy-"));
    try {
      const wrangler = join(PROJECT_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
      // execFile rejects (with wrangler's output) on a non-zero exit.
      const { stdout } = await run(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", outdir], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
        timeout: 60_000,
      });
      expect(existsSync(join(outdir, "index.js"))).toBe(true);
      // wrangler's [build] step ran scripts/build-lab.mjs, and [assets] picked up its output.
      expect(stdout).toContain("[build-lab] dist/lab");
      expect(existsSync(join(PROJECT_ROOT, "dist", "lab", "index.html"))).toBe(true);
      expect(stdout).toContain("env.ASSETS");
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  });
});
