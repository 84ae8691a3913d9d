import { describe, expect, it } from "vitest";
import { matchesClause, parseSearchQuery } from "./search-query.ts";

describe("parseSearchQuery", () => {
  it("ORs plain terms, lowercased", () => {
    expect(parseSearchQuery("Quantum computing")).toEqual([
      { occur: "should", terms: ["quantum"] },
      { occur: "should", terms: ["computing"] },
    ]);
  });

  it("reads +term as required and -term as excluded", () => {
    expect(parseSearchQuery("+fox -dog cat")).toEqual([
      { occur: "must", terms: ["fox"] },
      { occur: "mustNot", terms: ["dog"] },
      { occur: "should", terms: ["cat"] },
    ]);
  });

  it("makes both neighbours of AND required and keeps OR as the default", () => {
    expect(parseSearchQuery("red AND fox OR dog").map((c) => c.occur)).toEqual(["must", "must", "should"]);
    expect(parseSearchQuery("and or").map((c) => c.terms)).toEqual([["and"], ["or"]]);
  });

  it("reads a quoted text, or a word the tokenizer splits, as a phrase", () => {
    expect(parseSearchQuery('"Quick Brown" -"lazy dog" e-mail')).toEqual([
      { occur: "should", terms: ["quick", "brown"] },
      { occur: "mustNot", terms: ["lazy", "dog"] },
      { occur: "should", terms: ["e", "mail"] },
    ]);
  });

  it("gives no clauses for a query without terms", () => {
    expect(parseSearchQuery('  AND "" -- + ')).toEqual([]);
  });
});

describe("matchesClause", () => {
  it("matches a phrase only when its terms are adjacent and in order", () => {
    const phrase = { occur: "should" as const, terms: ["brown", "fox"] };
    expect(matchesClause(phrase, ["the", "quick", "brown", "fox"])).toBe(true);
    expect(matchesClause(phrase, ["fox", "brown"])).toBe(false);
    expect(matchesClause(phrase, ["brown", "quick", "fox"])).toBe(false);
    expect(matchesClause(phrase, ["brown"])).toBe(false);
  });
});
