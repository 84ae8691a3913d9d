// BM25+ over a whole sharded map (DESIGN.md: a sharded map is searched on every shard): each shard's index knows
// only its own document count, average length and document frequencies, so the home gathers them first and each
// shard re-scores its hits with the whole map's. minisearch does not take outside statistics, so a hit's term
// frequency is recovered from its local per-term score, which is exact for minisearch's BM25+ formula.

import * as z from "../../core/protocol/zod.ts";

/** The BM25+ parameters of every index (search-index.ts). */
export const BM25 = { k: 1.2, b: 0.75, d: 0.5 } as const;

/** Term statistics of one shard's index, or of a whole map once merged. */
export interface TermStats {
  /** Documents indexed. */
  docs: number;
  /** Sum of the documents' lengths (distinct tokens per document, as minisearch counts a field's length). */
  length: number;
  /** Documents holding each query term. */
  df: Record<string, number>;
}

/** Stored with a subscription (search_sub.options). */
export const termStatsSchema = z.object({ docs: z.number(), length: z.number(), df: z.record(z.string(), z.number()) });

/** The statistics of several shards as one index would have them. */
export function mergeTermStats(parts: readonly TermStats[]): TermStats {
  const df: Record<string, number> = {};
  let docs = 0;
  let length = 0;
  for (const part of parts) {
    docs += part.docs;
    length += part.length;
    for (const [term, n] of Object.entries(part.df)) df[term] = (df[term] ?? 0) + n;
  }
  return { docs, length, df };
}

function idf(docs: number, df: number): number {
  return Math.log(1 + (docs - df + 0.5) / (df + 0.5));
}

function lengthNorm(length: number, average: number): number {
  return BM25.k * (1 - BM25.b + (BM25.b * length) / (average || 1));
}

/**
 * One term's BM25+ score of a document under `global` statistics, from its score under `local` ones (minisearch's
 * score of a one-term query). `length` is the document's length.
 */
export function rescoreTerm(localScore: number, term: string, length: number, local: TermStats, global: TermStats): number {
  const localIdf = idf(local.docs, local.df[term] ?? 0);
  const globalDf = global.df[term] ?? 0;
  if (localIdf <= 0 || globalDf === 0) return localScore;
  // localScore = idf · (d + tf·(k+1) / (tf + K)); solve for tf.
  const part = localScore / localIdf - BM25.d;
  const localK = lengthNorm(length, local.length / local.docs);
  const tf = part <= 0 ? 0 : (part * localK) / (BM25.k + 1 - part);
  const globalK = lengthNorm(length, global.length / global.docs);
  return idf(global.docs, globalDf) * (BM25.d + (tf * (BM25.k + 1)) / (tf + globalK));
}
