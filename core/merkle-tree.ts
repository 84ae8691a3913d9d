import { addHash, fnv1a, subtractHash } from "./hash.ts";
import type { Timestamp } from "./hlc.ts";

/** Depth of TopGun's Merkle trie: one hex digit of the key's hash per level. */
export const MERKLE_DEPTH = 3;
/** Number of leaves of a depth-3 trie (16^3). */
export const LEAF_COUNT = 4096;

const HEX_PATH = /^[0-9a-f]{0,3}$/;

/** The bucket path of a key: fnv1a(key) as 8 lowercase, zero-padded hex digits. */
export function bucketPath(key: string): string {
  return fnv1a(key).toString(16).padStart(8, "0");
}

/** The leaf (0..4095) of a key: the first three hex digits of its bucket path, read as a number. */
export function leafIndexOf(key: string): number {
  return fnv1a(key) >>> 20;
}

/** The 3-hex-digit path of leaf `index`. */
export function leafPathOf(index: number): string {
  return index.toString(16).padStart(MERKLE_DEPTH, "0");
}

/** The LWW entry hash: fnv1a("key:millis:counter:nodeId"). The value is left out: a tombstone hashes like a record. */
/** The leaves under a path above them (fewer than MERKLE_DEPTH hex digits: "" is every leaf, "a" is 0xa00..0xaff). */
export function subtreeLeaves(path: string): { first: number; last: number } {
  const width = 4 * (MERKLE_DEPTH - path.length);
  const prefix = path === "" ? 0 : Number.parseInt(path, 16);
  return { first: prefix << width, last: ((prefix + 1) << width) - 1 };
}

export function lwwEntryHash(key: string, ts: Timestamp): number {
  return fnv1a(`${key}:${ts.millis}:${ts.counter}:${ts.nodeId}`);
}

interface TrieNode {
  hash: number;
  children: Map<string, TrieNode>;
  /** Only on leaves (depth 3): key → entry hash. */
  entries: Map<string, number> | undefined;
}

function newNode(): TrieNode {
  return { hash: 0, children: new Map(), entries: undefined };
}

/**
 * TopGun's Merkle trie (PROTOCOL.md §7.2), as the client keeps it: node hashes are sums mod 2^32, so an
 * update adjusts each node on the path by the entry's difference. Nodes are never pruned, because TopGun's
 * trees keep them and their zero hashes show up in bucket replies.
 */
export class MerkleTree {
  #root = newNode();
  readonly #entryHashes = new Map<string, number>();

  /** Sets the entry hash of `key`, replacing any previous one. */
  update(key: string, entryHash: number): void {
    const previous = this.#entryHashes.get(key) ?? 0;
    const path = bucketPath(key).slice(0, MERKLE_DEPTH);
    let node = this.#root;
    node.hash = addHash(subtractHash(node.hash, previous), entryHash);
    for (const digit of path) {
      let child = node.children.get(digit);
      if (child === undefined) {
        child = newNode();
        node.children.set(digit, child);
      }
      node = child;
      node.hash = addHash(subtractHash(node.hash, previous), entryHash);
    }
    node.entries ??= new Map();
    node.entries.set(key, entryHash);
    this.#entryHashes.set(key, entryHash);
  }

  /** Removes the entry of `key`; its nodes stay, possibly with hash 0. */
  remove(key: string): void {
    const previous = this.#entryHashes.get(key);
    if (previous === undefined) return;
    this.#entryHashes.delete(key);
    let node = this.#root;
    node.hash = subtractHash(node.hash, previous);
    for (const digit of bucketPath(key).slice(0, MERKLE_DEPTH)) {
      const child = node.children.get(digit);
      // A key with an entry hash always has its whole path, so this never stops early.
      if (child === undefined) return;
      node = child;
      node.hash = subtractHash(node.hash, previous);
    }
    node.entries?.delete(key);
  }

  /** Drops every entry and node. */
  clear(): void {
    this.#root = newNode();
    this.#entryHashes.clear();
  }

  getRootHash(): number {
    return this.#root.hash;
  }

  /** The entry hash of `key`, if it has one. */
  getEntryHash(key: string): number | undefined {
    return this.#entryHashes.get(key);
  }

  /** Hashes of every child of `path`, zero-hash children included; `{}` for a leaf or a missing path. */
  getBuckets(path: string): Record<string, number> {
    const buckets: Record<string, number> = {};
    const node = this.#nodeAt(path);
    if (node !== undefined) for (const [digit, child] of node.children) buckets[digit] = child.hash;
    return buckets;
  }

  /** True when a node exists at `path` (the root, `""`, always does). */
  hasPath(path: string): boolean {
    return this.#nodeAt(path) !== undefined;
  }

  /** True when `path` is a leaf holding at least one entry: the case that gets a leaf reply in sync. */
  isLeaf(path: string): boolean {
    const node = this.#nodeAt(path);
    return node?.entries !== undefined && node.entries.size > 0;
  }

  /** Keys held by the leaf at `path`; empty for any other path. */
  getKeysInBucket(path: string): string[] {
    return [...(this.#nodeAt(path)?.entries?.keys() ?? [])];
  }

  #nodeAt(path: string): TrieNode | undefined {
    if (path.length > MERKLE_DEPTH) return undefined;
    let node: TrieNode | undefined = this.#root;
    for (const digit of path) {
      node = node.children.get(digit);
      if (node === undefined) return undefined;
    }
    return node;
  }
}

/** {@link LeafSums} in transfer form: only leaves that hold entries, as parallel lists. */
export interface LeafSumsWire {
  leaves: number[];
  sums: number[];
  counts: number[];
}

/**
 * A map's Merkle tree as the server keeps it: the sum and entry count of each of the 4096 leaves, which is
 * enough to answer roots and buckets without holding keys in memory. Because node hashes are sums, the tree
 * of a sharded map is the sum of its shards' trees. Unlike {@link MerkleTree}, a node whose entries were all
 * removed disappears from bucket replies; servers keep tombstones, so that only happens after pruning.
 */
export class LeafSums {
  readonly sums = new Uint32Array(LEAF_COUNT);
  readonly counts = new Uint32Array(LEAF_COUNT);

  /** Sets a leaf's sum and count outright (loading from storage). */
  load(leaf: number, hash: number, count: number): void {
    this.sums[leaf] = hash;
    this.counts[leaf] = count;
  }

  /** Records a new entry in `leaf`. */
  add(leaf: number, hash: number): void {
    this.sums[leaf] = addHash(this.sums[leaf] ?? 0, hash);
    this.counts[leaf] = (this.counts[leaf] ?? 0) + 1;
  }

  /** Forgets an entry of `leaf`. */
  remove(leaf: number, hash: number): void {
    this.sums[leaf] = subtractHash(this.sums[leaf] ?? 0, hash);
    // Uint32Array would wrap -1 to 2^32 − 1 and make an empty leaf look full.
    this.counts[leaf] = Math.max(0, (this.counts[leaf] ?? 0) - 1);
  }

  /** Changes the hash of an existing entry of `leaf`. */
  replace(leaf: number, oldHash: number, newHash: number): void {
    this.sums[leaf] = addHash(subtractHash(this.sums[leaf] ?? 0, oldHash), newHash);
  }

  root(): number {
    let sum = 0;
    for (const leafSum of this.sums) sum = (sum + leafSum) >>> 0;
    return sum;
  }

  /** Entries in leaves `first`..`last` (a subtree: see `subtreeLeaves`). */
  countIn(first: number, last: number): number {
    let count = 0;
    for (let leaf = first; leaf <= last; leaf++) count += this.counts[leaf] ?? 0;
    return count;
  }

  /** True when `path` is a 3-hex-digit leaf path with at least one entry. */
  isLeafWithEntries(path: string): boolean {
    return path.length === MERKLE_DEPTH && HEX_PATH.test(path) && (this.counts[Number.parseInt(path, 16)] ?? 0) > 0;
  }

  /**
   * Hashes of the children of an inner path (`""`, 1 or 2 hex digits) that hold entries. Undefined when the
   * path holds no entry (it does not exist) or is not an inner path; the root always exists, so an empty
   * map gives `{}` there.
   */
  buckets(path: string): Record<string, number> | undefined {
    if (path.length >= MERKLE_DEPTH || !HEX_PATH.test(path)) return undefined;
    const childSpan = 16 ** (MERKLE_DEPTH - path.length - 1);
    const first = path === "" ? 0 : Number.parseInt(path, 16) * childSpan * 16;
    const buckets: Record<string, number> = {};
    let found = false;
    for (let digit = 0; digit < 16; digit++) {
      const start = first + digit * childSpan;
      let sum = 0;
      let count = 0;
      for (let leaf = start; leaf < start + childSpan; leaf++) {
        sum = (sum + (this.sums[leaf] ?? 0)) >>> 0;
        count += this.counts[leaf] ?? 0;
      }
      if (count > 0) {
        buckets[digit.toString(16)] = sum;
        found = true;
      }
    }
    return found || path === "" ? buckets : undefined;
  }

  /** The transfer form: only leaves that hold entries. */
  encode(): LeafSumsWire {
    const wire: LeafSumsWire = { leaves: [], sums: [], counts: [] };
    for (let leaf = 0; leaf < LEAF_COUNT; leaf++) {
      const count = this.counts[leaf] ?? 0;
      if (count === 0) continue;
      wire.leaves.push(leaf);
      wire.sums.push(this.sums[leaf] ?? 0);
      wire.counts.push(count);
    }
    return wire;
  }

  /** Rebuilds leaf sums from {@link LeafSums.encode}'s output; throws when the lists do not line up. */
  static decode(wire: LeafSumsWire): LeafSums {
    const { leaves, sums, counts } = wire;
    if (sums.length !== leaves.length || counts.length !== leaves.length) {
      throw new Error("leaf sums: lists differ in length");
    }
    const result = new LeafSums();
    leaves.forEach((leaf, i) => {
      if (!Number.isInteger(leaf) || leaf < 0 || leaf >= LEAF_COUNT) throw new Error(`leaf sums: bad leaf ${leaf}`);
      result.load(leaf, sums[i] ?? 0, counts[i] ?? 0);
    });
    return result;
  }

  /** The leaf sums of the union of disjoint key sets, e.g. a sharded map's tree from its shards' trees. */
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
