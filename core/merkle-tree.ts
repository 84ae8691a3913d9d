import { addHash, fnv1a, subtractHash } from "./hash.ts";
import type { Timestamp } from "./hlc.ts";

/** Depth of TopGun's Merkle trie: one hex digit of the key hash per level. */
export const MERKLE_DEPTH = 3;
/** Leaves of a depth-3 trie: 16^3. */
export const LEAF_COUNT = 4096;

/** The bucket path of a key: fnv1a(key) as 8 lowercase, zero-padded hex digits. */
export function bucketPath(key: string): string {
  return fnv1a(key).toString(16).padStart(8, "0");
}

/** The leaf (0..4095) of a key: the first three hex digits of its bucket path. */
export function leafIndexOf(key: string): number {
  return fnv1a(key) >>> 20;
}

/** The 3-hex-digit path of leaf `index`. */
export function leafPathOf(index: number): string {
  return index.toString(16).padStart(MERKLE_DEPTH, "0");
}

/** The LWW entry hash: fnv1a("key:millis:counter:nodeId"); the value is not part of it. */
export function lwwEntryHash(key: string, ts: Timestamp): number {
  return fnv1a(`${key}:${ts.millis}:${ts.counter}:${ts.nodeId}`);
}

interface TrieNode {
  hash: number;
  children: Map<string, TrieNode>;
  entries?: Map<string, number>;
}

/** TopGun's in-memory Merkle trie (PROTOCOL.md §7.2): node hashes are sums mod 2^32; empty nodes stay. */
export class MerkleTree {
  readonly #root: TrieNode = { hash: 0, children: new Map() };
  readonly #keys = new Map<string, number>();

  update(key: string, entryHash: number): void {
    const old = this.#keys.get(key);
    const path = bucketPath(key).slice(0, MERKLE_DEPTH);
    let node = this.#root;
    const trail = [node];
    for (const digit of path) {
      let child = node.children.get(digit);
      if (!child) node.children.set(digit, (child = { hash: 0, children: new Map() }));
      node = child;
      trail.push(node);
    }
    node.entries ??= new Map();
    node.entries.set(key, entryHash);
    this.#keys.set(key, entryHash);
    for (const n of trail) n.hash = addHash(subtractHash(n.hash, old ?? 0), entryHash);
  }

  remove(key: string): void {
    const old = this.#keys.get(key);
    if (old === undefined) return;
    this.#keys.delete(key);
    let node = this.#root;
    node.hash = subtractHash(node.hash, old);
    for (const digit of bucketPath(key).slice(0, MERKLE_DEPTH)) {
      const child = node.children.get(digit);
      if (!child) return;
      node = child;
      node.hash = subtractHash(node.hash, old);
    }
    node.entries?.delete(key);
  }

  getRootHash(): number {
    return this.#root.hash;
  }

  /** Hashes of the children of `path` (zero-hash children included); empty when the path does not exist. */
  getBuckets(path: string): Record<string, number> {
    const node = this.#node(path);
    const buckets: Record<string, number> = {};
    if (node) for (const [digit, child] of node.children) buckets[digit] = child.hash;
    return buckets;
  }

  hasPath(path: string): boolean {
    return this.#node(path) !== undefined;
  }

  isLeaf(path: string): boolean {
    return path.length === MERKLE_DEPTH && this.#node(path) !== undefined;
  }

  getKeysInBucket(path: string): string[] {
    return [...(this.#node(path)?.entries?.keys() ?? [])];
  }

  #node(path: string): TrieNode | undefined {
    if (path.length > MERKLE_DEPTH) return undefined;
    let node: TrieNode | undefined = this.#root;
    for (const digit of path) node = node?.children.get(digit);
    return node;
  }
}

/**
 * A map's Merkle tree kept as its 4096 leaf sums (and entry counts), enough to answer roots and buckets. Sums
 * add: a sharded map's tree is the sum of its shards' trees.
 */
export class LeafSums {
  readonly sums = new Uint32Array(LEAF_COUNT);
  readonly counts = new Uint32Array(LEAF_COUNT);

  load(leaf: number, hash: number, count: number): void {
    this.sums[leaf] = hash;
    this.counts[leaf] = count;
  }

  add(leaf: number, hash: number): void {
    this.sums[leaf] = addHash(this.sums[leaf] ?? 0, hash);
    this.counts[leaf] = (this.counts[leaf] ?? 0) + 1;
  }

  remove(leaf: number, hash: number): void {
    this.sums[leaf] = subtractHash(this.sums[leaf] ?? 0, hash);
    this.counts[leaf] = Math.max(0, (this.counts[leaf] ?? 0) - 1);
  }

  replace(leaf: number, oldHash: number, newHash: number): void {
    this.sums[leaf] = addHash(subtractHash(this.sums[leaf] ?? 0, oldHash), newHash);
  }

  root(): number {
    let sum = 0;
    for (let leaf = 0; leaf < LEAF_COUNT; leaf++) sum = (sum + (this.sums[leaf] ?? 0)) >>> 0;
    return sum;
  }

  /** True when `path` names a leaf that holds entries. */
  isLeafWithEntries(path: string): boolean {
    if (path.length !== MERKLE_DEPTH || !/^[0-9a-f]{3}$/.test(path)) return false;
    return (this.counts[Number.parseInt(path, 16)] ?? 0) > 0;
  }

  /**
   * Hashes of the children of an inner path ("", 1 or 2 hex digits) that hold entries; undefined when the path
   * holds none (it does not exist), except the root, which always exists.
   */
  buckets(path: string): Record<string, number> | undefined {
    if (path.length >= MERKLE_DEPTH || !/^[0-9a-f]*$/.test(path)) return undefined;
    const span = 16 ** (MERKLE_DEPTH - path.length); // leaves under `path`
    const first = path ? Number.parseInt(path, 16) * span : 0;
    const childSpan = span / 16;
    const buckets: Record<string, number> = {};
    let any = false;
    for (let digit = 0; digit < 16; digit++) {
      let sum = 0;
      let count = 0;
      const start = first + digit * childSpan;
      for (let leaf = start; leaf < start + childSpan; leaf++) {
        sum = (sum + (this.sums[leaf] ?? 0)) >>> 0;
        count += this.counts[leaf] ?? 0;
      }
      if (count > 0) {
        buckets[digit.toString(16)] = sum;
        any = true;
      }
    }
    return any || path === "" ? buckets : undefined;
  }

  /** Transfer form: only leaves that hold entries. */
  encode(): { leaves: number[]; sums: number[]; counts: number[] } {
    const out = { leaves: [] as number[], sums: [] as number[], counts: [] as number[] };
    for (let leaf = 0; leaf < LEAF_COUNT; leaf++) {
      const count = this.counts[leaf] ?? 0;
      if (count === 0) continue;
      out.leaves.push(leaf);
      out.sums.push(this.sums[leaf] ?? 0);
      out.counts.push(count);
    }
    return out;
  }

  static decode(wire: { leaves: number[]; sums: number[]; counts: number[] }): LeafSums {
    const sums = new LeafSums();
    wire.leaves.forEach((leaf, i) => sums.load(leaf, wire.sums[i] ?? 0, wire.counts[i] ?? 0));
    return sums;
  }

  static sum(list: readonly LeafSums[]): LeafSums {
    const total = new LeafSums();
    for (const part of list) {
      for (let leaf = 0; leaf < LEAF_COUNT; leaf++) {
        total.sums[leaf] = addHash(total.sums[leaf] ?? 0, part.sums[leaf] ?? 0);
        total.counts[leaf] = (total.counts[leaf] ?? 0) + (part.counts[leaf] ?? 0);
      }
    }
    return total;
  }
}
