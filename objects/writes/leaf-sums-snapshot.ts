import { LEAF_COUNT, LeafSums } from "../../core/merkle-tree.ts";

/** Bytes per leaf with entries in a snapshot: leaf, sum and count as little-endian 32-bit words. */
const ENTRY_BYTES = 12;

/**
 * An LWW tree's leaf sums as one blob (merkle_current.sums): the leaves with entries as (leaf, sum, count) triples,
 * at most 48 KB for a full tree. One row instead of a row per changed leaf (a map written at random changes nearly all
 * 4,096 of them between two checkpoints; writing them as rows was ~9% of the write path's CPU at 10 connections).
 */
export function encodeLeafSums(sums: LeafSums): Uint8Array {
  let leaves = 0;
  for (const count of sums.counts) if (count > 0) leaves++;
  const bytes = new Uint8Array(leaves * ENTRY_BYTES);
  const view = new DataView(bytes.buffer);
  let at = 0;
  sums.counts.forEach((count, leaf) => {
    if (count === 0) return;
    view.setUint32(at, leaf, true);
    view.setUint32(at + 4, sums.sums[leaf] ?? 0, true);
    view.setUint32(at + 8, count, true);
    at += ENTRY_BYTES;
  });
  return bytes;
}

/** The sums of a snapshot; undefined when the blob is not one (the caller then derives the sums from the records). */
export function decodeLeafSums(blob: unknown): LeafSums | undefined {
  if (!(blob instanceof Uint8Array) || blob.length % ENTRY_BYTES !== 0) return undefined;
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const sums = new LeafSums();
  for (let at = 0; at < blob.length; at += ENTRY_BYTES) {
    const leaf = view.getUint32(at, true);
    if (leaf >= LEAF_COUNT) return undefined;
    sums.load(leaf, view.getUint32(at + 4, true), view.getUint32(at + 8, true));
  }
  return sums;
}
