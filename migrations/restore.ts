// npm run db:restore: re-seeds a namespace's Partition objects from Postgres after local state was lost.
// It replays every record through the public protocol with its original HLC timestamp (the edge keeps client
// timestamps), tombstones and OR-Map tags included, so Merkle roots come out as before and clients re-sync
// without conflicts. Postgres is read directly (DATABASE_URL), never through a caching Hyperdrive.
//   DATABASE_URL=postgres://... SERVER_URL=ws://127.0.0.1:8787/ws [NAMESPACE=default] [JWT_SECRET=...] npm run db:restore
import { SignJWT } from "jose";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { decodeMessage, decodeValue, encodeMessage } from "../core/codec.ts";

const PAGE_ROWS = 1_000;

export interface RestoreOptions {
  databaseUrl: string;
  serverUrl: string;
  namespace: string;
  jwtSecret?: string;
}

/** Replays a namespace's records from Postgres into the server; returns how many LWW records and OR keys it sent. */
export async function restoreNamespace(options: RestoreOptions): Promise<{ lww: number; orKeys: number }> {
  const db = new pg.Client({ connectionString: options.databaseUrl });
  await db.connect();
  const socket = await openSocket(options);
  try {
    let lww = 0;
    for (let after = ["", ""]; ; ) {
      const { rows } = await db.query(
        `SELECT map, key, value_msgpack, hlc_millis, hlc_counter, hlc_node, tombstone, ttl_ms FROM lww_records
         WHERE namespace = $1 AND (map, key) > ($2, $3) ORDER BY map, key LIMIT $4`,
        [options.namespace, after[0], after[1], PAGE_ROWS],
      );
      if (rows.length === 0) break;
      const ops = rows.map((row, i) => ({
        id: `restore-${lww + i}`,
        mapName: String(row.map),
        key: String(row.key),
        opType: row.tombstone ? "REMOVE" : "PUT",
        record: {
          value: row.tombstone ? null : decodeValue(new Uint8Array(row.value_msgpack as Buffer)),
          timestamp: { millis: Number(row.hlc_millis), counter: Number(row.hlc_counter), nodeId: String(row.hlc_node) },
          ...(row.ttl_ms === null ? {} : { ttlMs: Number(row.ttl_ms) }),
        },
      }));
      await socket.request({ type: "OP_BATCH", payload: { ops } }, "OP_ACK");
      lww += rows.length;
      const last = rows[rows.length - 1];
      after = [String(last?.map), String(last?.key)];
    }
    const orKeys = await restoreOrMaps(db, socket, options.namespace);
    return { lww, orKeys };
  } finally {
    socket.close();
    await db.end();
  }
}

async function restoreOrMaps(db: pg.Client, socket: Socket, namespace: string): Promise<number> {
  const records = await db.query(
    `SELECT map, key, tag, value_msgpack, hlc_millis, hlc_counter, hlc_node, ttl_ms FROM or_records WHERE namespace = $1 ORDER BY map, key`,
    [namespace],
  );
  const tombstones = await db.query("SELECT map, key, tag FROM or_tombstones WHERE namespace = $1", [namespace]);
  const entries = new Map<string, { map: string; key: string; records: unknown[]; tombstones: string[] }>();
  const entryOf = (map: string, key: string) => {
    const id = `${map}\u0000${key}`;
    let entry = entries.get(id);
    if (!entry) entries.set(id, (entry = { map, key, records: [], tombstones: [] }));
    return entry;
  };
  for (const row of records.rows) {
    entryOf(String(row.map), String(row.key)).records.push({
      value: decodeValue(new Uint8Array(row.value_msgpack as Buffer)),
      timestamp: { millis: Number(row.hlc_millis), counter: Number(row.hlc_counter), nodeId: String(row.hlc_node) },
      tag: String(row.tag),
      ...(row.ttl_ms === null ? {} : { ttlMs: Number(row.ttl_ms) }),
    });
  }
  for (const row of tombstones.rows) entryOf(String(row.map), String(row.key ?? "")).tombstones.push(String(row.tag));
  const byMap = new Map<string, { key: string; records: unknown[]; tombstones: string[] }[]>();
  for (const entry of entries.values()) {
    if (!entry.key) continue; // a tombstone of a tag whose key was never seen cannot be placed
    const list = byMap.get(entry.map) ?? [];
    list.push({ key: entry.key, records: entry.records, tombstones: entry.tombstones });
    byMap.set(entry.map, list);
  }
  for (const [map, list] of byMap) {
    for (let i = 0; i < list.length; i += PAGE_ROWS) {
      socket.send({ type: "ORMAP_PUSH_DIFF", payload: { mapName: map, entries: list.slice(i, i + PAGE_ROWS) } });
    }
  }
  // A connection's messages are handled in order: the PONG comes after every push above was merged.
  await socket.request({ type: "PING", timestamp: Date.now() }, "PONG");
  return entries.size;
}

interface Socket {
  send(message: unknown): void;
  request(message: unknown, replyType: string): Promise<Record<string, unknown>>;
  close(): void;
}

async function openSocket(options: RestoreOptions): Promise<Socket> {
  const url = new URL(options.serverUrl);
  url.searchParams.set("namespace", options.namespace);
  const ws = new WebSocket(url.toString());
  ws.binaryType = "arraybuffer";
  const waiters: { type: string; resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  ws.addEventListener("message", (event) => {
    const message = decodeMessage(new Uint8Array(event.data as ArrayBuffer)) as Record<string, unknown>;
    if (message.type === "AUTH_FAIL" || message.type === "ERROR" || message.type === "OP_REJECTED") {
      for (const waiter of waiters.splice(0)) waiter.reject(new Error(`server answered ${JSON.stringify(message)}`));
      return;
    }
    const index = waiters.findIndex((w) => w.type === message.type);
    if (index >= 0) waiters.splice(index, 1)[0]?.resolve(message);
  });
  const send = (message: unknown) => ws.send(encodeMessage(message));
  const request = (message: unknown, type: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      waiters.push({ type, resolve, reject });
      send(message);
    });
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), { once: true });
  });
  const token = options.jwtSecret
    ? await new SignJWT({ roles: ["admin"] }).setProtectedHeader({ alg: "HS256" }).setSubject("restore").setIssuedAt().setExpirationTime("1h").sign(new TextEncoder().encode(options.jwtSecret))
    : "";
  await request({ type: "AUTH", token }, "AUTH_ACK");
  return { send, request, close: () => ws.close() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const databaseUrl = process.env.DATABASE_URL;
  const serverUrl = process.env.SERVER_URL ?? `ws://127.0.0.1:${process.env.PORT ?? 8787}/ws`;
  if (!databaseUrl) {
    console.error("DATABASE_URL is not set");
    process.exit(2);
  }
  const result = await restoreNamespace({
    databaseUrl,
    serverUrl,
    namespace: process.env.NAMESPACE ?? "default",
    ...(process.env.JWT_SECRET ? { jwtSecret: process.env.JWT_SECRET } : {}),
  });
  console.log(`restored ${result.lww} LWW records and ${result.orKeys} OR-Map keys`);
}
