import { describe, expect, it } from "vitest";
import { ConditionSyntaxError, parseCondition } from "./condition-expr.ts";
import { evaluatePredicate } from "./predicate.ts";

describe("parseCondition", () => {
  it("parses auth.id == data.ownerId into TopGun's valueRef leaf", () => {
    expect(parseCondition("auth.id == data.ownerId")).toEqual({ op: "eq", attribute: "ownerId", valueRef: "auth.id" });
    expect(parseCondition("data.ownerId == auth.id")).toEqual({ op: "eq", attribute: "ownerId", valueRef: "auth.id" });
  });

  it("puts the data side on the left of an ordering, flipping the operator", () => {
    expect(parseCondition("10 < data.score")).toEqual({ op: "gt", attribute: "score", value: 10 });
    expect(parseCondition("data.score <= 10")).toEqual({ op: "lte", attribute: "score", value: 10 });
  });

  it("parses literals: single- and double-quoted strings, numbers, booleans, null and lists", () => {
    expect(parseCondition("data.a == 'x y'")).toEqual({ op: "eq", attribute: "a", value: "x y" });
    expect(parseCondition('data.a != "q"')).toEqual({ op: "neq", attribute: "a", value: "q" });
    expect(parseCondition("data.a == -1.5")).toEqual({ op: "eq", attribute: "a", value: -1.5 });
    expect(parseCondition("data.a == true")).toEqual({ op: "eq", attribute: "a", value: true });
    expect(parseCondition("data.a == null")).toEqual({ op: "eq", attribute: "a", value: null });
    expect(parseCondition("data.a in ['x', 2]")).toEqual({ op: "in", attribute: "a", value: ["x", 2] });
  });

  it("gives && precedence over || and honours parentheses and !", () => {
    expect(parseCondition("data.a == 1 || data.b == 2 && data.c == 3")).toEqual({
      op: "or",
      children: [
        { op: "eq", attribute: "a", value: 1 },
        { op: "and", children: [{ op: "eq", attribute: "b", value: 2 }, { op: "eq", attribute: "c", value: 3 }] },
      ],
    });
    expect(parseCondition("!(data.a == 1 || data.b == 2)")).toEqual({
      op: "not",
      children: [{ op: "or", children: [{ op: "eq", attribute: "a", value: 1 }, { op: "eq", attribute: "b", value: 2 }] }],
    });
  });

  it("parses membership in both directions and against the principal's roles", () => {
    expect(parseCondition("auth.id in data.members")).toEqual({ op: "in", attribute: "members", valueRef: "auth.id" });
    expect(parseCondition("'editor' in auth.roles")).toEqual({ op: "in", value: "editor", valueRef: "auth.roles" });
    expect(parseCondition("auth.tier == 'pro'")).toEqual({ op: "eq", value: "pro", valueRef: "auth.tier" });
  });

  it("turns startsWith and endsWith, infix or as methods, into anchored, escaped regexes", () => {
    expect(parseCondition("data.path startsWith 'a.b'")).toEqual({ op: "regex", attribute: "path", value: "^a\\.b" });
    expect(parseCondition("data.path.endsWith('.md')")).toEqual({ op: "regex", attribute: "path", value: "\\.md$" });
    expect(parseCondition("data.title contains 'x'")).toEqual({ op: "contains", attribute: "title", value: "x" });
  });

  it("refuses bad expressions with the position of the error", () => {
    const failure = (text: string) => {
      try {
        parseCondition(text);
      } catch (err) {
        return err instanceof ConditionSyntaxError ? err.position : -1;
      }
      return undefined;
    };
    expect(failure("data.a ==")).toBe(9);
    expect(failure("data.a = 1")).toBe(7);
    expect(failure("data.a == 'open")).toBe(10);
    expect(failure("(data.a == 1")).toBe(12);
    expect(failure("data.a == 1 data.b")).toBe(12);
    expect(failure("1 == 2")).toBe(2);
    expect(failure("foo.a == 1")).toBe(0);
    expect(failure("auth.roles contains 'x'")).toBe(11);
    expect(failure("data.a startsWith auth.id")).toBe(18);
    expect(failure("x".repeat(5000))).toBe(4096);
  });

  it("evaluates what it parses with the principal as auth", () => {
    const owner = parseCondition("auth.id == data.ownerId || 'admin' in auth.roles");
    expect(evaluatePredicate(owner, { ownerId: "u1" }, { auth: { id: "u1", roles: [] } })).toBe(true);
    expect(evaluatePredicate(owner, { ownerId: "u1" }, { auth: { id: "u2", roles: [] } })).toBe(false);
    expect(evaluatePredicate(owner, { ownerId: "u1" }, { auth: { id: "u2", roles: ["admin"] } })).toBe(true);
    expect(evaluatePredicate(parseCondition("auth.age > 18"), {}, { auth: { age: 30 } })).toBe(true);
    expect(evaluatePredicate(parseCondition("auth.age > 18"), {}, { auth: { age: 12 } })).toBe(false);
  });
});
