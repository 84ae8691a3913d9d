// The smallest fan-out the runtime can do: one object calls N other objects once each, in parallel, and waits for
// every answer; the targets do nothing. What a round costs here is the runtime's own share of a topic publish to N
// homes (bench/rpc-cost.ts). Variants: a payload shaped like a `homeDeliver` call, targets without SQLite storage,
// and `fetch` instead of RPC.
import { DurableObject } from "cloudflare:workers";

interface Env {
  TARGET: DurableObjectNamespace<Target>;
  MEMORY_TARGET: DurableObjectNamespace<Target>;
  FANNER: DurableObjectNamespace<Fanner>;
}

export class Target extends DurableObject<Env> {
  empty(): void {}
  deliver(request: { conns: string[]; frames: Uint8Array[] }): string[] {
    return request.conns.length > 1000 ? request.conns : [];
  }
  override fetch(): Response {
    return new Response(null, { status: 204 });
  }
}

export class MemoryTarget extends Target {}

export class Fanner extends DurableObject<Env> {
  readonly #stubs = new Map<number, DurableObjectStub<Target>>();
  #memory = false;

  #stub(i: number): DurableObjectStub<Target> {
    const key = this.#memory ? -1 - i : i;
    let stub = this.#stubs.get(key);
    const binding = this.#memory ? this.env.MEMORY_TARGET : this.env.TARGET;
    if (!stub) this.#stubs.set(key, (stub = binding.get(binding.idFromName(`t${i}`))));
    return stub;
  }

  /** Rounds of a parallel fan-out to `targets` objects; answers the mean wall time of a round in ms. */
  async fanOut(request: { targets: number; rounds: number; payload: boolean; memory: boolean; viaFetch: boolean }): Promise<number> {
    this.#memory = request.memory;
    const frame = new Uint8Array(120).fill(7);
    const call = (i: number): Promise<unknown> =>
      request.viaFetch
        ? this.#stub(i).fetch("http://target/", request.payload ? { method: "POST", body: frame } : {})
        : request.payload ? this.#stub(i).deliver({ conns: [crypto.randomUUID()], frames: [frame] }) : this.#stub(i).empty();
    for (let i = 0; i < request.targets; i++) await call(i); // wake every target first
    const started = performance.now();
    for (let round = 0; round < request.rounds; round++) {
      await Promise.all(Array.from({ length: request.targets }, (_, i) => call(i)));
    }
    return (performance.now() - started) / request.rounds;
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== "/fan") return Response.json({ ok: true });
    const fanner = env.FANNER.get(env.FANNER.idFromName("fanner"));
    const ms = await fanner.fanOut({
      targets: Number(url.searchParams.get("targets") ?? 84),
      rounds: Number(url.searchParams.get("rounds") ?? 100),
      payload: url.searchParams.get("payload") === "1",
      memory: url.searchParams.get("memory") === "1",
      viaFetch: url.searchParams.get("fetch") === "1",
    });
    return Response.json({ ms });
  },
};
