import type { ClientMessage } from "../core/protocol/message.ts";
import type { SqlQueryRespMessage } from "../core/protocol/sql.ts";

/** The answer of a SQL query: column names in select-list order and one array per row. */
export interface SqlResult {
  columns: string[];
  rows: unknown[][];
}

/** A SQL query the server refused or could not run; `code` is the server's (`UNSUPPORTED`, `FEATURE_DISABLED`, …). */
export class SqlError extends Error {
  readonly code: string | undefined;

  constructor(message: string, code: string | undefined) {
    super(message);
    this.name = "SqlError";
    this.code = code;
  }
}

interface PendingSql {
  message: ClientMessage;
  resolve(result: SqlResult): void;
  reject(error: Error): void;
}

/**
 * SQL_QUERY requests waiting for their SQL_QUERY_RESP (PROTOCOL-NEXT.md §7). A query only reads, so one made offline,
 * or lost with a closed connection, is sent again after the next handshake.
 */
export class SqlRequests {
  readonly #send: (message: ClientMessage) => boolean;
  readonly #newId: () => string;
  readonly #pending = new Map<string, PendingSql>();

  constructor(send: (message: ClientMessage) => boolean, newId: () => string) {
    this.#send = send;
    this.#newId = newId;
  }

  query(sql: string): Promise<SqlResult> {
    const queryId = this.#newId();
    const message: ClientMessage = { type: "SQL_QUERY", payload: { sql, queryId } };
    return new Promise((resolve, reject) => {
      this.#pending.set(queryId, { message, resolve, reject });
      this.#send(message);
    });
  }

  /** After AUTH_ACK: sends every query still waiting. */
  resume(): void {
    for (const pending of this.#pending.values()) this.#send(pending.message);
  }

  answer(message: SqlQueryRespMessage): void {
    const { queryId, columns, rows, error, code } = message.payload;
    const pending = this.#pending.get(queryId);
    if (pending === undefined) return;
    this.#pending.delete(queryId);
    if (error !== undefined) pending.reject(new SqlError(error, code));
    else pending.resolve({ columns, rows });
  }
}
