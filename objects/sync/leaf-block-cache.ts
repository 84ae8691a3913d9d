import type { LWWRecord } from "../../core/lww-map.ts";

/** Leaves read together: a sync that asks for one leaf of a level-2 bucket asks for its siblings next. */
export const LEAVES_PER_BLOCK = 16;
/** Blocks kept; small, since a block is only reused within one sync exchange. */
const MAX_BLOCKS = 8;

type LeafRecords = { key: string; record: LWWRecord }[];

/**
 * Owner role: the LWW records of recently read leaf blocks, so a Merkle sync reads SQLite once per 16 leaves
 * instead of once per leaf. Any write to a map drops that map's blocks, so answers are never stale.
 */
export class LeafBlockCache {
  readonly #blocks = new Map<string, Map<number, LeafRecords>>();

  read(map: string, leaf: number, load: (firstLeaf: number, lastLeaf: number) => Map<number, LeafRecords>): LeafRecords {
    const first = leaf - (leaf % LEAVES_PER_BLOCK);
    const id = `${map}\u0000${first}`;
    let block = this.#blocks.get(id);
    if (block) {
      this.#blocks.delete(id); // re-insert: Map order is the LRU order
    } else {
      block = load(first, first + LEAVES_PER_BLOCK - 1);
      if (this.#blocks.size >= MAX_BLOCKS) this.#blocks.delete(this.#blocks.keys().next().value ?? "");
    }
    this.#blocks.set(id, block);
    return block.get(leaf) ?? [];
  }

  forget(map: string): void {
    for (const id of this.#blocks.keys()) if (id.startsWith(`${map}\u0000`)) this.#blocks.delete(id);
  }
}
