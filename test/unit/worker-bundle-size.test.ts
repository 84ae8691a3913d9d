import { describe, expect, it } from "vitest";
import { WORKER_BUDGET_BYTES, WORKER_BUDGET_GZIP_BYTES, workerBundle } from "../../bench/bundle-size.ts";

// Built as `wrangler deploy --dry-run` builds the upload (wrangler.toml's settings: minified); budgets in bench/bundle-size.ts.
const bundle = await workerBundle();

describe("the Worker bundle", () => {
  it(`stays within ${WORKER_BUDGET_BYTES} bytes and ${WORKER_BUDGET_GZIP_BYTES} bytes gzipped as wrangler uploads it`, () => {
    expect(bundle.bytes).toBeLessThanOrEqual(WORKER_BUDGET_BYTES);
    expect(bundle.gzipBytes).toBeLessThanOrEqual(WORKER_BUDGET_GZIP_BYTES);
  });

  it("validates with zod/mini and zod's English messages alone (no classic zod, no other locale)", () => {
    const zodFiles = bundle.inputs.filter((input) => input.startsWith("node_modules/zod/"));
    expect(zodFiles.some((input) => input.startsWith("node_modules/zod/v4/mini/"))).toBe(true);
    expect(zodFiles.filter((input) => input.startsWith("node_modules/zod/v4/classic/"))).toEqual([]);
    expect(zodFiles.filter((input) => input.startsWith("node_modules/zod/v4/locales/") && !input.endsWith("/en.js"))).toEqual([]);
  });

  it("carries one msgpack codec (msgpackr; @msgpack/msgpack is the client's)", () => {
    expect(Object.keys(bundle.bytesBySource)).toContain("msgpackr");
    expect(Object.keys(bundle.bytesBySource)).not.toContain("@msgpack/msgpack");
  });
});
