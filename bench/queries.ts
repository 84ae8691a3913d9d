// Grouped queries and SQL over a map of 10,000 records: time from request to answer on one socket (ms, p50/p99).
import { BenchSocket } from "./bench-socket.ts";
import { percentiles } from "./measure.ts";

type WsUrl = (params: Record<string, string>) => string;
const RECORDS = 10_000;
const OPS_PER_BATCH = 1_000;
const RUNS = 30;
const STATUSES = ["open", "paid", "shipped", "late", "void"];

async function fill(socket: BenchSocket, map: string): Promise<void> {
  for (let start = 0; start < RECORDS; start += OPS_PER_BATCH) {
    const ops = Array.from({ length: Math.min(OPS_PER_BATCH, RECORDS - start) }, (_, j) => {
      const n = start + j;
      const value = { status: STATUSES[n % STATUSES.length], amount: (n * 7919) % 1000, customer: `c${n % 97}` };
      return { id: String(n), mapName: map, key: `order-${n}`, record: { value, timestamp: { millis: Date.now(), counter: n, nodeId: "bench-query-writer" } } };
    });
    const acked = socket.next("OP_ACK", 60_000);
    socket.send({ type: "OP_BATCH", payload: { ops } });
    await acked;
  }
}

/** Times `runs` round trips of `request` until the reply of `type`. */
async function time(socket: BenchSocket, type: string, request: (i: number) => unknown): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const reply = socket.next(type, 60_000);
    socket.send(request(i));
    const message = await reply;
    samples.push(performance.now() - started);
    if (message.payload && "error" in message.payload && message.payload.error !== undefined) throw new Error(`${type}: ${String(message.payload.error)}`);
  }
  return samples;
}

/** A grouped QUERY_SUB (answered, then dropped) and SQL_QUERYs over 10,000 records of one map. */
export async function queryCost(wsUrl: WsUrl) {
  const map = `bench-orders-${Date.now()}`;
  const socket = await BenchSocket.open(wsUrl({ map }));
  await fill(socket, map);
  const grouped = await time(socket, "QUERY_RESP", (i) => ({
    type: "QUERY_SUB",
    payload: {
      queryId: `g${i}`,
      mapName: map,
      query: { groupBy: ["status"], aggregations: [{ func: "sum", field: "amount" }, { func: "avg", field: "amount" }, { func: "max", field: "amount" }] },
    },
  }));
  const sqlGrouped = await time(socket, "SQL_QUERY_RESP", (i) => ({
    type: "SQL_QUERY",
    payload: { queryId: `s${i}`, sql: `SELECT status, COUNT(*), SUM(amount), AVG(amount) FROM "${map}" GROUP BY status ORDER BY status` },
  }));
  const sqlTop = await time(socket, "SQL_QUERY_RESP", (i) => ({
    type: "SQL_QUERY",
    payload: { queryId: `t${i}`, sql: `SELECT _key, amount FROM "${map}" WHERE status = 'open' AND amount > 500 ORDER BY amount DESC LIMIT 10` },
  }));
  socket.close();
  return {
    records: RECORDS,
    groupedQuerySubMs: percentiles(grouped),
    sqlGroupByMs: percentiles(sqlGrouped),
    sqlWhereOrderLimitMs: percentiles(sqlTop),
  };
}
