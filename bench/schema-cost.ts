// The cost of map JSON Schemas on the write path: 10 connections (a map each) writing into maps without a schema and
// into maps with one (an object of three typed, bounded properties, closed), rounds alternating so both see the same
// machine load. Also the validator alone: checks per second of the same value in this process.
import { compileSchema } from "../core/map-schema.ts";
import { signToken } from "../test/support/tokens.ts";
import { startServer } from "../test/support/server-harness.ts";
import { round } from "./measure.ts";
import { throughput } from "./writes.ts";

const SECRET = "bench-schema-secret";
const ROUNDS = 3;
const CONNECTIONS = 10;

/** What the write benchmark's values must be (bench/writes.ts writes `{n, text, ok}`). */
export const BENCH_SCHEMA = {
  type: "object",
  required: ["n", "text", "ok"],
  properties: { n: { type: "integer", minimum: 0 }, text: { type: "string", maxLength: 200 }, ok: { type: "boolean" } },
  additionalProperties: false,
};

const sign = (claims: { sub: string; roles: string[] }) => signToken({ secret: SECRET, ...claims });

/** Checks per second of one benchmark value against BENCH_SCHEMA, compiled once. */
export function validatorChecksPerSecond(durationMs = 1_000): number {
  const compiled = compileSchema({ map: "bench", version: 1, schema: BENCH_SCHEMA });
  const value = { n: 1, text: "benchmark value", ok: true };
  let checks = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    for (let i = 0; i < 1_000; i++) if (compiled.violation(value) !== undefined) throw new Error("the benchmark value must conform");
    checks += 1_000;
  }
  return Math.round((checks * 1_000) / (performance.now() - start));
}

export async function schemaCost(durationMs: number) {
  const server = await startServer({ jwtSecret: SECRET });
  try {
    const admin = await sign({ sub: "bench-admin", roles: ["admin"] });
    const token = await sign({ sub: "bench-writer", roles: [] });
    const stamp = Date.now();
    const mapOf = (kind: string, r: number) => (i: number) => `bench.${kind}.${r}.${i}.${stamp}`;
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < CONNECTIONS; i++) {
        const response = await fetch(`${server.url}/api/admin/schemas/${mapOf("schema", r)(i)}?namespace=bench-schemas`, {
          method: "PUT",
          headers: { Authorization: `Bearer ${admin}`, "Content-Type": "application/json" },
          body: JSON.stringify(BENCH_SCHEMA),
        });
        if (response.status !== 200) throw new Error(`schema refused: ${response.status} ${await response.text()}`);
      }
    }
    const run = async (kind: string, r: number) => {
      const wsUrl = (params: Record<string, string>) => server.wsUrl({ ...params, namespace: "bench-schemas" });
      return (await throughput(wsUrl, CONNECTIONS, mapOf(kind, r), durationMs, { token })).opsPerSecond;
    };
    const plain: number[] = [];
    const checked: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      plain.push(await run("plain", r));
      checked.push(await run("schema", r));
    }
    const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
    return {
      rounds: ROUNDS,
      noSchemaOpsPerSecond: mean(plain),
      schemaOpsPerSecond: mean(checked),
      schemaShareOfNoSchema: round(mean(checked) / mean(plain)),
      validatorChecksPerSecond: validatorChecksPerSecond(),
      runs: { noSchema: plain, schema: checked },
    };
  } finally {
    await server.stop();
  }
}
