import { termsOf } from "./search-terms.ts";

/** How a clause takes part: `should` (default: any may match), `must` (`+term`, `AND`) or `mustNot` (`-term`). */
export type Occur = "should" | "must" | "mustNot";

/** One clause of a query: a term, or a phrase when it has several (in order). Terms are processed index terms. */
export interface SearchClause {
  occur: Occur;
  terms: string[];
}

/** Words, optionally prefixed with + or -, and "quoted phrases" (an unclosed quote runs to the end). */
const CLAUSE = /([+-]?)(?:"([^"]*)"?|(\S+))/g;

/**
 * Parses the query syntax of TopGun's search (tantivy's query parser, PROTOCOL.md §11.4) over our one text field:
 * terms are OR-ed; `+term` is required and `-term` excluded; `"a b"` is a phrase (its terms adjacent and in order);
 * `AND` between two clauses makes both required, `OR` keeps the default. A word that the tokenizer splits (`e-mail`)
 * is a phrase, as in tantivy. There is no grouping: parentheses are separators. Never fails: text with no terms
 * gives no clauses (zero results, no error).
 */
export function parseSearchQuery(text: string): SearchClause[] {
  const clauses: SearchClause[] = [];
  let joinNext = false;
  for (const match of text.matchAll(CLAUSE)) {
    const [, sign = "", phrase, word] = match;
    if (phrase === undefined && sign === "" && (word === "AND" || word === "OR")) {
      if (word === "AND") {
        const previous = clauses.at(-1);
        if (previous?.occur === "should") previous.occur = "must";
        joinNext = true;
      }
      continue;
    }
    const terms = termsOf(phrase ?? word ?? "");
    if (terms.length === 0) continue;
    const occur: Occur = sign === "+" ? "must" : sign === "-" ? "mustNot" : joinNext ? "must" : "should";
    clauses.push({ occur, terms });
    joinNext = false;
  }
  return clauses;
}

/** Whether a document whose tokens (in order) are `tokens` matches a clause: every term, and adjacent for a phrase. */
export function matchesClause(clause: SearchClause, tokens: readonly string[]): boolean {
  const { terms } = clause;
  const first = terms[0];
  if (first === undefined) return false;
  for (let i = tokens.indexOf(first); i >= 0 && i + terms.length <= tokens.length; i = tokens.indexOf(first, i + 1)) {
    if (terms.every((term, j) => tokens[i + j] === term)) return true;
  }
  return false;
}
