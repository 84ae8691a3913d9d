import pg from "pg";
import { Outbox } from "./outbox.ts";
import { Persistence } from "./persistence.ts";
import type { SqlPort } from "../storage/sql-port.ts";
import { WriteThrough, type PgConnection } from "./write-through.ts";

/** Bounds of one flush: how long to wait for a connection and for each statement before giving up (then the alarm retries). */
const CONNECT_TIMEOUT_MS = 3_000;
const STATEMENT_TIMEOUT_MS = 5_000;

/** Write-through wiring: a pg client per flush through the Hyperdrive binding (created with caching off). */
export function createPersistence(
  sql: SqlPort,
  hyperdrive: Hyperdrive,
  namespace: string,
  wakeAt: (atMs: number) => Promise<void>,
): Persistence {
  const outbox = new Outbox(sql);
  const connect = async (): Promise<PgConnection> => {
    const client = new pg.Client({
      connectionString: hyperdrive.connectionString,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: STATEMENT_TIMEOUT_MS,
    });
    await client.connect();
    return client;
  };
  return new Persistence({ outbox, writeThrough: new WriteThrough({ outbox, connect, namespace }), wakeAt });
}
