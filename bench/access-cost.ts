// The cost of access policies on the write path: 10 connections (a map each) writing into a namespace without
// policies and into one with 20 policies (one with a record condition on the written maps), rounds alternating so
// both see the same machine load.
import { signToken } from "../test/support/tokens.ts";
import { startServer } from "../test/support/server-harness.ts";
import { round } from "./measure.ts";
import { throughput } from "./writes.ts";

const SECRET = "bench-access-secret";
const ROUNDS = 3;

const sign = (claims: { sub: string; roles: string[] }) => signToken({ secret: SECRET, ...claims });

/** Twenty policies: one conditional allow on the bench maps, the rest about other maps (each is still matched). */
function twentyPolicies(): Record<string, unknown>[] {
  const policies: Record<string, unknown>[] = [
    { id: "bench-write", mapPattern: "bench.**", action: "write", effect: "allow", conditionExpr: "data.ok == true" },
    { id: "secret-deny", mapPattern: "secret.*", action: "all", effect: "deny" },
  ];
  for (let i = 0; i < 18; i++) policies.push({ id: `other-${i}`, mapPattern: `other.m${i}.*`, action: i % 2 ? "read" : "write", effect: "allow" });
  return policies;
}

export async function accessCost(durationMs: number) {
  const server = await startServer({ jwtSecret: SECRET });
  try {
    const admin = await sign({ sub: "bench-admin", roles: ["admin"] });
    const token = await sign({ sub: "bench-writer", roles: [] });
    const stamp = Date.now();
    for (const policy of twentyPolicies()) {
      const response = await fetch(`${server.url}/api/admin/policies?namespace=bench-policies`, {
        method: "POST",
        headers: { Authorization: `Bearer ${admin}`, "Content-Type": "application/json" },
        body: JSON.stringify(policy),
      });
      if (response.status !== 201) throw new Error(`policy refused: ${response.status} ${await response.text()}`);
    }
    const run = async (namespace: string, round: number) => {
      const wsUrl = (params: Record<string, string>) => server.wsUrl({ ...params, namespace });
      return (await throughput(wsUrl, 10, (i) => `bench.${namespace}.${round}.${i}.${stamp}`, durationMs, { token })).opsPerSecond;
    };
    const open: number[] = [];
    const guarded: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      open.push(await run("bench-open", r));
      guarded.push(await run("bench-policies", r));
    }
    const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
    return {
      rounds: ROUNDS,
      noPoliciesOpsPerSecond: mean(open),
      twentyPoliciesOpsPerSecond: mean(guarded),
      twentyPoliciesShareOfNoPolicies: round(mean(guarded) / mean(open)),
      runs: { noPolicies: open, twentyPolicies: guarded },
    };
  } finally {
    await server.stop();
  }
}
