import MiniSearch from "minisearch";
import { decodeValue } from "../core/codec.ts";
import { SEARCH_INDEX_BUDGET_BYTES } from "../core/limits.ts";
import type { SqlPort } from "./sql-port.ts";

/** Rows read per statement while building an index, so a large map is never held in memory whole. */
const BUILD_PAGE_ROWS = 500;
/** tantivy's default tokenizer drops tokens longer than this many UTF-8 bytes (PROTOCOL.md §11.4). */
const MAX_TOKEN_BYTES = 40;
/** Estimated bytes per indexed character (term tree + postings) and per document (ids, field lengths). */
const BYTES_PER_CHAR = 3;
const BYTES_PER_DOC = 100;
/** Estimated bytes of an index itself, so that many small (or empty) indexes still count against the budget. */
const BYTES_PER_INDEX = 1024;

const FIELD = "text";
const encoder = new TextEncoder();

/** One hit of the index: the key, its BM25+ score, and the (processed) query terms it matched. */
export interface SearchHit {
  key: string;
  score: number;
  matchedTerms: string[];
}

/** Splits on non-alphanumeric Unicode characters, like tantivy's default tokenizer. */
export function tokenize(text: string): string[] {
  return text.split(/[^\p{L}\p{N}]+/u);
}

/** Lowercases; drops empty tokens and tokens over 40 bytes. No stemming, no stop words. */
export function processTerm(term: string): string | null {
  if (term === "") return null;
  const lower = term.toLowerCase();
  return encoder.encode(lower).length > MAX_TOKEN_BYTES ? null : lower;
}

/** Every string found in the value, recursively through map values and array items (PROTOCOL.md §11.4). */
export function stringLeaves(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const item of value) stringLeaves(item, out);
  else if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    for (const item of Object.values(value)) stringLeaves(item, out);
  }
  return out;
}

/** The indexed document of a record value: its string leaves joined with spaces. */
export function documentText(value: unknown): string {
  return stringLeaves(value).join(" ");
}

interface MapIndex {
  search: MiniSearch<{ id: string; text: string }>;
  /** Estimated bytes of each indexed document, to keep the total estimate in step with updates. */
  docs: Map<string, number>;
  bytes: number;
}

function newMiniSearch(): MiniSearch<{ id: string; text: string }> {
  return new MiniSearch<{ id: string; text: string }>({
    fields: [FIELD],
    tokenize,
    processTerm,
    searchOptions: { combineWith: "OR", prefix: false, fuzzy: false, bm25: { k: 1.2, b: 0.75, d: 0.5 } },
  });
}

/**
 * The full-text indexes of the maps this owner holds (DESIGN.md "Bounded memory"): one minisearch index per map,
 * built lazily from SQLite (live LWW records only, a page at a time) on first use, kept up to date by `update`, and
 * kept in an LRU whose estimated size (3 bytes per indexed character + 100 per document + 1 KB per index) stays under a budget.
 * Evicted indexes are rebuilt on demand; an index larger than the whole budget is used once and not kept.
 */
export class SearchIndexes {
  readonly #sql: SqlPort;
  readonly #budget: number;
  /** Insertion order is recency: the first entry is the least recently used. */
  readonly #indexes = new Map<string, MapIndex>();
  #bytes = 0;
  /** How many indexes were built (for tests and diagnostics). */
  builds = 0;

  constructor(deps: { sql: SqlPort; budgetBytes?: number }) {
    this.#sql = deps.sql;
    this.#budget = deps.budgetBytes ?? SEARCH_INDEX_BUDGET_BYTES;
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

  /** BM25+ hits of `query` in `map` (terms OR-ed), best first; `only` restricts the hits to those keys. */
  search(map: string, query: string, only?: ReadonlySet<string>): SearchHit[] {
    const index = this.#use(map);
    const options = only === undefined ? {} : { filter: (r: { id: unknown }) => only.has(String(r.id)) };
    const hits = index.search.search(query, options).map((r) => ({ key: String(r.id), score: r.score, matchedTerms: [...r.queryTerms] }));
    this.#trim();
    return hits;
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
    this.#bytes = 0;
  }

  #use(map: string): MapIndex {
    let index = this.#indexes.get(map);
    if (index) {
      this.#indexes.delete(map);
    } else {
      index = this.#build(map);
      this.#bytes += index.bytes;
    }
    this.#indexes.set(map, index);
    return index;
  }

  #build(map: string): MapIndex {
    this.builds++;
    const index: MapIndex = { search: newMiniSearch(), docs: new Map(), bytes: BYTES_PER_INDEX };
    let leaf = -1;
    let key = "";
    for (;;) {
      const rows = this.#sql.exec(
        `SELECT leaf, key, value FROM lww_record WHERE map = ? AND (leaf > ? OR (leaf = ? AND key > ?)) AND value IS NOT NULL
         ORDER BY leaf, key LIMIT ?`,
        map,
        leaf,
        leaf,
        key,
        BUILD_PAGE_ROWS,
      );
      for (const row of rows) {
        if (row.value instanceof Uint8Array) this.#add(index, String(row.key), decodeValue(row.value), false);
      }
      const last = rows.at(-1);
      if (!last || rows.length < BUILD_PAGE_ROWS) return index;
      leaf = Number(last.leaf);
      key = String(last.key);
    }
  }

  #add(index: MapIndex, key: string, value: unknown, counted = true): void {
    const text = documentText(value);
    if (text === "") return;
    index.search.add({ id: key, text });
    const size = text.length * BYTES_PER_CHAR + key.length * 2 + BYTES_PER_DOC;
    index.docs.set(key, size);
    index.bytes += size;
    if (counted) this.#bytes += size;
  }

  #remove(index: MapIndex, key: string): void {
    const size = index.docs.get(key);
    if (size === undefined) return;
    index.search.discard(key);
    index.docs.delete(key);
    index.bytes -= size;
    this.#bytes -= size;
  }

  /** Evicts least recently used indexes until the estimate is under the budget. */
  #trim(): void {
    for (const [map, index] of this.#indexes) {
      if (this.#bytes <= this.#budget) return;
      this.#indexes.delete(map);
      this.#bytes -= index.bytes;
    }
  }
}
