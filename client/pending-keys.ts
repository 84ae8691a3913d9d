/**
 * Which (map, key) pairs have a local write the server has not acknowledged yet, counted from the moment the
 * write is made (before it is stored), so optimistic views can tell local writes from the server's word.
 */
export class PendingKeys {
  readonly #lastSeq = new Map<string, number>();
  #acknowledgedThrough = 0;

  /** A write to `key` of `mapName` got op seq `seq`. */
  note(mapName: string, key: string, seq: number): void {
    if (seq > this.#acknowledgedThrough) this.#lastSeq.set(idOf(mapName, key), seq);
  }

  /** OP_ACK covered every op up to `seq`. */
  acknowledgeThrough(seq: number): void {
    this.#acknowledgedThrough = Math.max(this.#acknowledgedThrough, seq);
    for (const [id, last] of this.#lastSeq) if (last <= this.#acknowledgedThrough) this.#lastSeq.delete(id);
  }

  /** The op of `seq` left the log without being applied (OP_REJECTED): the key is no longer waiting for it. */
  drop(mapName: string, key: string, seq: number): void {
    const id = idOf(mapName, key);
    if (this.#lastSeq.get(id) === seq) this.#lastSeq.delete(id);
  }

  has(mapName: string, key: string): boolean {
    return this.#lastSeq.has(idOf(mapName, key));
  }
}

function idOf(mapName: string, key: string): string {
  return `${mapName}\u0000${key}`;
}
