/** What a partition counts for `/metrics` and `/api/admin/status`. */
export interface MetricsSnapshot {
  opsApplied: number;
  opsRejected: number;
  httpSyncRequests: number;
  httpApiRequests: number;
}

/**
 * A partition's counters, in memory: counts since the object last started (an evicted object starts again from
 * zero, which Prometheus reads as a counter reset). Counting costs no SQL and no call on the write path.
 */
export class PartitionMetrics {
  #opsApplied = 0;
  #opsRejected = 0;
  #httpSyncRequests = 0;
  #httpApiRequests = 0;

  countOps(applied: number, rejected: number): void {
    this.#opsApplied += applied;
    this.#opsRejected += rejected;
  }

  countHttpSync(): void {
    this.#httpSyncRequests++;
  }

  countHttpApi(): void {
    this.#httpApiRequests++;
  }

  snapshot(): MetricsSnapshot {
    return { opsApplied: this.#opsApplied, opsRejected: this.#opsRejected, httpSyncRequests: this.#httpSyncRequests, httpApiRequests: this.#httpApiRequests };
  }
}
