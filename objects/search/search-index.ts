import MiniSearch, { type SearchOptions } from "minisearch";
import { type BudgetAccount, type BudgetHolder, ISOLATE_CACHE_BUDGET, type IsolateBudget } from "../storage/isolate-budget.ts";
import { matchesClause, parseSearchQuery, type SearchClause } from "./search-query.ts";
import { documentText, processTerm, termsOf, tokenize } from "./search-terms.ts";
import { BM25, rescoreTerm, type TermStats } from "./term-stats.ts";
import type { LwwStore } from "../writes/lww-store.ts";
import { readOrValues, scanOrValues } from "../writes/or-store.ts";
import type { SqlPort } from "../storage/sql-port.ts";

/**
 * Estimated heap bytes per indexed character (term tree + postings) and per document (ids, field lengths, this
 * file's maps): 20,000 documents of ~100 characters over a 5,000-word vocabulary took ~12 bytes per character
 * (~1.2 KB per document) of Node's heap, which these give.
 */
const BYTES_PER_CHAR = 8;
const BYTES_PER_DOC = 400;
/** Estimated bytes of an index itself, so that many small (or empty) indexes still count against the budget. */
const BYTES_PER_INDEX = 1024;

const FIELD = "text";

/** One hit of the index: the key, its BM25+ score, and the (processed) query terms it matched. */
export interface SearchHit {
  key: string;
  score: number;
  matchedTerms: string[];
}

interface MapIndex {
  search: MiniSearch<{ id: string; text: string }>;
  /** Estimated bytes of each indexed document, to keep the total estimate in step with updates. */
  docs: Map<string, number>;
  bytes: number;
  /** Each document's length as minisearch counts it (distinct tokens), and their sum: for whole-map statistics. */
  lengths: Map<string, number>;
  length: number;
}

function newMiniSearch(): MiniSearch<{ id: string; text: string }> {
  return new MiniSearch<{ id: string; text: string }>({
    fields: [FIELD],
    tokenize,
    processTerm,
    searchOptions: { combineWith: "OR", prefix: false, fuzzy: false, bm25: { ...BM25 } },
  });
}

/**
 * The full-text indexes of the maps this owner holds (DESIGN.md "Bounded memory"): one minisearch index per map,
 * built lazily from SQLite (live LWW records, and each OR-Map key's values as one document, a page at a time) on first use, kept up to date by `update`, and
 * kept in an LRU whose estimated size (8 bytes per indexed character + 400 per document + 1 KB per index) counts against
 * the isolate's cache budget (ISOLATE_CACHE_BUDGET, shared with the other objects of the isolate and their head indexes), which evicts idle
 * objects' indexes first. Evicted indexes are rebuilt on demand; an index larger than the whole budget is used once and
 * not kept.
 */
export class SearchIndexes implements BudgetHolder {
  readonly #sql: SqlPort;
  readonly #lww: Pick<LwwStore, "scanLiveValues" | "readLiveValues">;
  readonly #budget: IsolateBudget;
  readonly #account: BudgetAccount;
  /** Insertion order is recency: the first entry is the least recently used. */
  readonly #indexes = new Map<string, MapIndex>();
  #bytes = 0;
  /** How many indexes were built (for tests and diagnostics). */
  builds = 0;

  /** `lww`: the LWW records (reads see the write log through it); `sql`: the OR-Map rows. */
  constructor(deps: { sql: SqlPort; lww: Pick<LwwStore, "scanLiveValues" | "readLiveValues">; budget?: IsolateBudget }) {
    this.#sql = deps.sql;
    this.#lww = deps.lww;
    this.#budget = deps.budget ?? ISOLATE_CACHE_BUDGET;
    this.#account = this.#budget.open(this);
  }

  /** Maps with an index in memory, least recently used first. */
  get cached(): string[] {
    return [...this.#indexes.keys()];
  }

  /** Whether `map` has an index in memory (recency unchanged). */
  has(map: string): boolean {
    return this.#indexes.has(map);
  }

  /** Estimated bytes of all indexes in memory. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * BM25+ hits of `query` (search-query.ts syntax) in `map`, best first; `only` restricts the hits to those keys.
   * The positive clauses' terms are OR-ed in one minisearch query (so scores are minisearch's own); hits then keep
   * only documents that hold every required clause (or, with none required, any clause) and no excluded one. Phrases
   * are checked against the stored values of the documents that hold all their terms. With `stats` (a sharded
   * map's whole statistics, see term-stats.ts) the hits are scored as one index over the whole map would score them.
   */
  search(map: string, query: string, only?: ReadonlySet<string>, stats?: TermStats): SearchHit[] {
    const clauses = parseSearchQuery(query);
    const positive = clauses.filter((c) => c.occur !== "mustNot");
    if (positive.length === 0) return [];
    const index = this.#use(map);
    const options = only === undefined ? {} : { filter: (r: { id: unknown }) => only.has(String(r.id)) };
    const terms = [...new Set(positive.flatMap((c) => c.terms))];
    const found = index.search.search({ combineWith: "OR", queries: terms }, options);
    const hits = found.map((r) => ({ key: String(r.id), score: r.score, matchedTerms: [...r.queryTerms] }));
    if (stats) this.#rescore(index, terms, hits, stats);
    const excluded = this.#excluded(map, index, clauses.filter((c) => c.occur === "mustNot"), options);
    const required = positive.filter((c) => c.occur === "must");
    const wanted = required.length > 0 ? required : positive;
    const candidates = hits.filter((hit) => {
      if (excluded.has(hit.key)) return false;
      const held = new Set(hit.matchedTerms);
      const holds = (c: SearchClause) => c.terms.every((t) => held.has(t));
      return required.length > 0 ? required.every(holds) : positive.some(holds);
    });
    const phrases = wanted.filter((c) => c.terms.length > 1);
    const kept = phrases.length === 0 ? candidates : this.#withPhrases(map, candidates, wanted, required.length > 0);
    this.#trim();
    return kept;
  }

  /** This index's statistics of the positive terms of `query` (search-query.ts syntax); an empty map gives zeros. */
  termStats(map: string, query: string): TermStats {
    const terms = [...new Set(parseSearchQuery(query).filter((c) => c.occur !== "mustNot").flatMap((c) => c.terms))];
    const index = this.#use(map);
    const stats = this.#statsOf(index, terms);
    this.#trim();
    return stats;
  }

  #statsOf(index: MapIndex, terms: readonly string[]): TermStats {
    const df: Record<string, number> = {};
    for (const term of terms) df[term] = index.search.search({ queries: [term] }).length;
    return { docs: index.search.documentCount, length: index.length, df };
  }

  /** Replaces each hit's score by the whole map's (minisearch's quality factor, the matched term count, included). */
  #rescore(index: MapIndex, terms: readonly string[], hits: SearchHit[], global: TermStats): void {
    const local = this.#statsOf(index, terms);
    const perTerm = new Map(terms.map((term) => [term, new Map(index.search.search({ queries: [term] }).map((r) => [String(r.id), r.score]))]));
    for (const hit of hits) {
      const length = index.lengths.get(hit.key) ?? 0;
      let score = 0;
      for (const term of hit.matchedTerms) score += rescoreTerm(perTerm.get(term)?.get(hit.key) ?? 0, term, length, local, global);
      hit.score = score * (hit.matchedTerms.length || 1);
    }
  }

  /** Keys of documents (among those `options` lets through) that match any excluded clause. */
  #excluded(map: string, index: MapIndex, clauses: readonly SearchClause[], options: SearchOptions): Set<string> {
    const excluded = new Set<string>();
    for (const clause of clauses) {
      const keys = index.search.search({ combineWith: "AND", queries: clause.terms }, options).map((r) => String(r.id));
      if (clause.terms.length === 1) for (const key of keys) excluded.add(key);
      else {
        this.#visitDocuments(map, keys, (key, tokens) => {
          if (matchesClause(clause, tokens)) excluded.add(key);
        });
      }
    }
    return excluded;
  }

  /** The hits whose stored text matches every clause (`all`) or any clause, phrases checked for adjacency. */
  #withPhrases(map: string, hits: readonly SearchHit[], clauses: readonly SearchClause[], all: boolean): SearchHit[] {
    const matching = new Set<string>();
    this.#visitDocuments(map, hits.map((h) => h.key), (key, tokens) => {
      const matches = (c: SearchClause) => matchesClause(c, tokens);
      if (all ? clauses.every(matches) : clauses.some(matches)) matching.add(key);
    });
    return hits.filter((hit) => matching.has(hit.key));
  }

  /** Visits the index terms, in order, of the live documents of `keys`: read from SQLite a page at a time, never all at once. */
  #visitDocuments(map: string, keys: readonly string[], visit: (key: string, tokens: string[]) => void): void {
    const seen = new Set<string>();
    this.#lww.readLiveValues(map, keys, (key, value) => {
      seen.add(key);
      visit(key, termsOf(documentText(value)));
    });
    const rest = keys.filter((key) => !seen.has(key));
    for (const [key, values] of readOrValues(this.#sql, map, rest)) visit(key, termsOf(documentText(values)));
  }

  /** Applies written records (null = tombstone) to the indexes in memory; maps without one are built later from SQLite. */
  update(changes: readonly { map: string; key: string; value: unknown }[]): void {
    let touched = false;
    for (const { map, key, value } of changes) {
      const index = this.#indexes.get(map);
      if (!index) continue;
      touched = true;
      this.#remove(index, key);
      if (value !== null) this.#add(index, key, value);
    }
    if (touched) this.#trim();
  }

  /** Drops every index (they are rebuilt on demand). */
  clear(): void {
    this.#indexes.clear();
    this.#count(-this.#bytes);
  }

  /** The budget's request (see BudgetHolder): least recently used indexes, until `bytes` are freed. */
  evict(bytes: number): number {
    let freed = 0;
    for (const [map, index] of this.#indexes) {
      if (freed >= bytes) break;
      this.#indexes.delete(map);
      freed += index.bytes;
    }
    this.#count(-freed);
    return freed;
  }

  #use(map: string): MapIndex {
    this.#account.lastUse = Date.now();
    let index = this.#indexes.get(map);
    if (index) {
      this.#indexes.delete(map);
    } else {
      index = this.#build(map);
      this.#count(index.bytes);
    }
    this.#indexes.set(map, index);
    return index;
  }

  #count(bytes: number): void {
    this.#bytes += bytes;
    this.#budget.change(this.#account, bytes, 0);
  }

  #build(map: string): MapIndex {
    this.builds++;
    const index: MapIndex = { search: newMiniSearch(), docs: new Map(), bytes: BYTES_PER_INDEX, lengths: new Map(), length: 0 };
    this.#lww.scanLiveValues(map, (key, value) => this.#add(index, key, value, false));
    // An OR-Map key is one document: its values, oldest first (a map is LWW or OR in practice; LWW wins a clash).
    scanOrValues(this.#sql, map, (key, values) => {
      if (!index.docs.has(key)) this.#add(index, key, values, false);
    });
    return index;
  }

  #add(index: MapIndex, key: string, value: unknown, counted = true): void {
    const text = documentText(value);
    if (text === "") return;
    index.search.add({ id: key, text });
    const length = new Set(tokenize(text)).size;
    index.lengths.set(key, length);
    index.length += length;
    const size = text.length * BYTES_PER_CHAR + key.length * 2 + BYTES_PER_DOC;
    index.docs.set(key, size);
    index.bytes += size;
    if (counted) this.#count(size);
  }

  #remove(index: MapIndex, key: string): void {
    const size = index.docs.get(key);
    if (size === undefined) return;
    index.search.discard(key);
    index.docs.delete(key);
    index.length -= index.lengths.get(key) ?? 0;
    index.lengths.delete(key);
    index.bytes -= size;
    this.#count(-size);
  }

  /** Evicts (this object's indexes or other caches of the isolate) while the isolate's cache budget is passed. */
  #trim(): void {
    this.#budget.enforce();
  }
}
