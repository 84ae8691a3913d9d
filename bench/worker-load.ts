// The Worker's own share of a cold start: the script wrangler would upload, loaded by a fresh V8 (a new Node
// process; workerd runs the same engine) until its module has evaluated: reading, parsing, compiling and running the
// top level (every zod schema is built there). Under wrangler dev this cost hides inside a server start of several
// seconds, so it is measured apart. `cloudflare:workers` is a stub here: the load needs only its classes.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { buildWorker } from "./bundle-size.ts";
import { round } from "./measure.ts";

const RUNS = 9;

const CLOUDFLARE_WORKERS_STUB = `
export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }
export class WorkerEntrypoint { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }
export class RpcTarget {}
export const env = {};
`;

/** Median ms, over {@link RUNS} fresh processes, from `import()` of the built Worker to its evaluated module. */
export async function workerLoad(): Promise<{ runs: number; moduleLoadMs: number }> {
  const dir = await mkdtemp(join(tmpdir(), "topgun-worker-load-"));
  try {
    const { script } = await buildWorker(dir);
    const stub = join(dir, "cloudflare-workers-stub.mjs");
    await writeFile(stub, CLOUDFLARE_WORKERS_STUB);
    const hooks = join(dir, "hooks.mjs");
    await writeFile(
      hooks,
      `export async function resolve(specifier, context, next) {
        return specifier === "cloudflare:workers" ? { url: ${JSON.stringify(pathToFileURL(stub).href)}, shortCircuit: true } : next(specifier, context);
      }`,
    );
    const register = join(dir, "register.mjs");
    await writeFile(register, `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(hooks).href)});`);
    const timed = `const started = performance.now(); await import(${JSON.stringify(pathToFileURL(script).href)}); console.log(performance.now() - started);`;
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const { stdout } = await promisify(execFile)(process.execPath, ["--import", pathToFileURL(register).href, "--input-type=module", "-e", timed]);
      times.push(Number(stdout.trim()));
    }
    return { runs: RUNS, moduleLoadMs: round([...times].sort((a, b) => a - b)[Math.floor(RUNS / 2)] ?? 0) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
