import type { Outbox } from "./outbox.ts";
import { writeChanges, type PgQueryable } from "./postgres-sink.ts";

/** A Postgres connection for one flush (pg.Client fits). */
export interface PgConnection extends PgQueryable {
  end(): Promise<void>;
}

/** Changes sent per flush statement batch; a flush loops until the outbox is empty or the budget is spent. */
const ROWS_PER_FLUSH = 1_000;
const FLUSH_BUDGET_ROWS = 20_000;
const RETRY_INITIAL_MS = 1_000;
/**
 * The longest wait between retries while Postgres is down: every partition holding changes retries at least this
 * often, so each outbox drains within ~10 s of Postgres coming back, not only those that new writes wake. A retry
 * costs one alarm and one failed connect.
 */
export const RETRY_MAX_MS = 8_000;

export type FlushResult = { ok: true; flushed: number; remaining: number } | { ok: false; error: string; retryInMs: number };

/**
 * Owner role: moves the outbox to Postgres. A flush opens one client, writes batches in transactions and deletes
 * each batch from the outbox only after its commit. While Postgres is unreachable the outbox keeps everything
 * and the caller retries on the alarm with exponential backoff.
 */
export class WriteThrough {
  readonly #outbox: Outbox;
  readonly #connect: () => Promise<PgConnection>;
  readonly #namespace: string;
  #failures = 0;
  #flushing: Promise<FlushResult> | undefined;

  constructor(deps: { outbox: Outbox; connect: () => Promise<PgConnection>; namespace: string }) {
    this.#outbox = deps.outbox;
    this.#connect = deps.connect;
    this.#namespace = deps.namespace;
  }

  /** Flushes what the outbox holds; concurrent calls share one flush. */
  flush(): Promise<FlushResult> {
    this.#flushing ??= this.#run().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #run(): Promise<FlushResult> {
    if (!this.#outbox.peek(1)) return { ok: true, flushed: 0, remaining: 0 };
    let client: PgConnection | undefined;
    let flushed = 0;
    try {
      client = await this.#connect();
      for (let batch = this.#outbox.peek(ROWS_PER_FLUSH); batch && flushed < FLUSH_BUDGET_ROWS; batch = this.#outbox.peek(ROWS_PER_FLUSH)) {
        await writeChanges(client, this.#namespace, batch.rows);
        this.#outbox.acknowledge(batch.lastSeq);
        flushed += batch.rows.length;
      }
      this.#failures = 0;
      return { ok: true, flushed, remaining: this.#outbox.stats().depth };
    } catch (err) {
      this.#failures++;
      const retryInMs = Math.min(RETRY_MAX_MS, RETRY_INITIAL_MS * 2 ** (this.#failures - 1));
      return { ok: false, error: err instanceof Error ? err.message : String(err), retryInMs };
    } finally {
      await client?.end().catch(() => undefined); // A broken connection cannot be closed cleanly; nothing to keep.
    }
  }
}
