// The condition language of access policies (PROTOCOL-NEXT.md §5.3): a CEL-like expression parsed once into a
// PredicateNode, which core/predicate.ts evaluates with `auth` in its context. No eval: Workers forbid it.
import type { PredicateNode, PredicateOp } from "./protocol/shared.ts";

/** A condition that does not parse: the message names what was expected and where (a 0-based character offset). */
export class ConditionSyntaxError extends Error {
  override readonly name = "ConditionSyntaxError";
  readonly position: number;

  constructor(message: string, position: number) {
    super(`${message} at position ${position}`);
    this.position = position;
  }
}

/** Longest conditions accepted (characters); a policy is read on every op, so it stays small. */
export const MAX_CONDITION_LENGTH = 4_096;

type Token =
  | { kind: "ref"; root: "auth" | "data"; path: string; at: number }
  | { kind: "literal"; value: unknown; at: number }
  | { kind: "punct"; text: string; at: number }
  | { kind: "word"; text: string; at: number }
  | { kind: "end"; at: number };

const PUNCTUATION = ["==", "!=", ">=", "<=", "&&", "||", ">", "<", "!", "(", ")", "[", "]", ",", "."];
const WORD_OPS = new Set(["in", "contains", "containsAll", "containsAny", "startsWith", "endsWith"]);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let value = "";
      while (j < text.length && text[j] !== c) {
        if (text[j] === "\\" && j + 1 < text.length) j += 1;
        value += text[j];
        j += 1;
      }
      if (j >= text.length) throw new ConditionSyntaxError("unterminated string", i);
      tokens.push({ kind: "literal", value, at: i });
      i = j + 1;
      continue;
    }
    const number = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (number && (c !== "-" || !/[\w)\]]/.test(previousNonSpace(text, i)))) {
      tokens.push({ kind: "literal", value: Number(number[0]), at: i });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][\w]*/.exec(text.slice(i));
    if (word) {
      const name = word[0];
      if (name === "true" || name === "false") tokens.push({ kind: "literal", value: name === "true", at: i });
      else if (name === "null") tokens.push({ kind: "literal", value: null, at: i });
      else if ((name === "auth" || name === "data") && text[i + name.length] === ".") {
        const path = /^(?:\.[A-Za-z_][\w-]*)+/.exec(text.slice(i + name.length));
        if (!path) throw new ConditionSyntaxError(`expected a field name after '${name}.'`, i + name.length + 1);
        // A trailing `.startsWith(` is a method call on the reference, not part of its path.
        let full = path[0];
        const method = /\.(startsWith|endsWith|contains|containsAll|containsAny)$/.exec(full);
        if (method && text[i + name.length + full.length] === "(") full = full.slice(0, -method[0].length);
        tokens.push({ kind: "ref", root: name, path: full.slice(1), at: i });
        i += name.length + full.length;
        continue;
      } else tokens.push({ kind: "word", text: name, at: i });
      i += name.length;
      continue;
    }
    const punct = PUNCTUATION.find((p) => text.startsWith(p, i));
    if (!punct) throw new ConditionSyntaxError(`unexpected character '${c}'`, i);
    tokens.push({ kind: "punct", text: punct, at: i });
    i += punct.length;
  }
  tokens.push({ kind: "end", at: text.length });
  return tokens;
}

function previousNonSpace(text: string, i: number): string {
  let j = i - 1;
  while (j >= 0 && /\s/.test(text[j] ?? "")) j -= 1;
  return j >= 0 ? (text[j] ?? "") : "";
}

type Operand = { kind: "ref"; root: "auth" | "data"; path: string; at: number } | { kind: "literal"; value: unknown; at: number };

const COMPARISONS: Record<string, PredicateOp> = { "==": "eq", "!=": "neq", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte" };
const FLIPPED: Partial<Record<PredicateOp, PredicateOp>> = { gt: "lt", gte: "lte", lt: "gt", lte: "gte", eq: "eq", neq: "neq" };

/**
 * Parses a condition into a PredicateNode. `data.x` becomes the leaf's `attribute`, `auth.x` its `valueRef`, a
 * literal its `value`; `auth.id == data.ownerId` gives `{op:'eq', attribute:'ownerId', valueRef:'auth.id'}`.
 * A comparison of a literal with `auth.*` keeps no attribute (`'editor' in auth.roles`).
 */
export function parseCondition(text: string): PredicateNode {
  if (text.length > MAX_CONDITION_LENGTH) throw new ConditionSyntaxError(`condition longer than ${MAX_CONDITION_LENGTH} characters`, MAX_CONDITION_LENGTH);
  const tokens = tokenize(text);
  let at = 0;
  const peek = (): Token => tokens[at] ?? { kind: "end", at: text.length };
  const take = (): Token => {
    const token = peek();
    at += 1;
    return token;
  };
  const isPunct = (token: Token, p: string) => token.kind === "punct" && token.text === p;
  const expect = (p: string) => {
    const token = take();
    if (!isPunct(token, p)) throw new ConditionSyntaxError(`expected '${p}'`, token.at);
  };

  const orExpr = (): PredicateNode => {
    const children = [andExpr()];
    while (isPunct(peek(), "||")) {
      take();
      children.push(andExpr());
    }
    return children.length === 1 ? (children[0] as PredicateNode) : { op: "or", children };
  };
  const andExpr = (): PredicateNode => {
    const children = [unary()];
    while (isPunct(peek(), "&&")) {
      take();
      children.push(unary());
    }
    return children.length === 1 ? (children[0] as PredicateNode) : { op: "and", children };
  };
  const unary = (): PredicateNode => {
    if (isPunct(peek(), "!")) {
      take();
      return { op: "not", children: [unary()] };
    }
    if (isPunct(peek(), "(")) {
      take();
      const inner = orExpr();
      expect(")");
      return inner;
    }
    return comparison();
  };
  const operand = (): Operand => {
    const token = take();
    if (token.kind === "ref" || token.kind === "literal") return token;
    if (isPunct(token, "[")) {
      const values: unknown[] = [];
      if (!isPunct(peek(), "]")) {
        for (;;) {
          const item = take();
          if (item.kind !== "literal") throw new ConditionSyntaxError("a list holds literals only", item.at);
          values.push(item.value);
          if (isPunct(peek(), "]")) break;
          expect(",");
        }
      }
      expect("]");
      return { kind: "literal", value: values, at: token.at };
    }
    throw new ConditionSyntaxError("expected auth.<field>, data.<field> or a literal", token.at);
  };
  const comparison = (): PredicateNode => {
    const left = operand();
    const next = peek();
    // Method form: data.name.startsWith('a')
    if (isPunct(next, ".") && left.kind === "ref") {
      take();
      const name = take();
      if (name.kind !== "word" || !WORD_OPS.has(name.text) || name.text === "in") throw new ConditionSyntaxError("expected a method name", name.at);
      expect("(");
      const right = operand();
      expect(")");
      return leaf(name.text, left, right, name.at);
    }
    if (next.kind === "punct" && COMPARISONS[next.text] !== undefined) {
      take();
      return leaf(next.text, left, operand(), next.at);
    }
    if (next.kind === "word" && WORD_OPS.has(next.text)) {
      take();
      return leaf(next.text, left, operand(), next.at);
    }
    throw new ConditionSyntaxError("expected a comparison (==, !=, >, >=, <, <=, in, contains, startsWith, endsWith, …)", next.at);
  };

  const result = orExpr();
  const rest = peek();
  if (rest.kind !== "end") throw new ConditionSyntaxError("unexpected input after the condition", rest.at);
  return result;
}

function leaf(operator: string, left: Operand, right: Operand, at: number): PredicateNode {
  const comparison = COMPARISONS[operator];
  if (comparison !== undefined) return binary(comparison, left, right, at);
  switch (operator) {
    case "in":
      // `x in data.list` (the list field holds x) and `data.x in [..]` are both `in` with the field as attribute.
      if (right.kind === "ref" && right.root === "data" && !(left.kind === "ref" && left.root === "data")) return binary("in", right, left, at);
      return binary("in", left, right, at);
    case "contains":
    case "containsAll":
    case "containsAny":
      return binary(operator, left, right, at);
    case "startsWith":
    case "endsWith": {
      if (left.kind !== "ref" || left.root !== "data") throw new ConditionSyntaxError(`${operator} applies to a data.<field>`, at);
      if (right.kind !== "literal" || typeof right.value !== "string") throw new ConditionSyntaxError(`${operator} needs a string literal`, right.at);
      const escaped = right.value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      return { op: "regex", attribute: left.path, value: operator === "startsWith" ? `^${escaped}` : `${escaped}$` };
    }
    default:
      throw new ConditionSyntaxError(`unknown operator '${operator}'`, at);
  }
}

/** One leaf: the data side is the attribute; auth goes to valueRef; a literal to value. */
function binary(op: PredicateOp, left: Operand, right: Operand, at: number): PredicateNode {
  const flip = (): PredicateOp => {
    const flipped = FLIPPED[op];
    if (flipped === undefined) throw new ConditionSyntaxError(`'${op}' needs its data.<field> or auth.<field> on the left`, at);
    return flipped;
  };
  if (left.kind === "ref" && left.root === "data") return withTarget({ op, attribute: left.path }, right);
  if (right.kind === "ref" && right.root === "data") return withTarget({ op: flip(), attribute: right.path }, left);
  if (left.kind === "literal" && right.kind === "ref") return { op, value: left.value, valueRef: `auth.${right.path}` };
  if (left.kind === "ref" && right.kind === "literal") return { op: flip(), value: right.value, valueRef: `auth.${left.path}` };
  throw new ConditionSyntaxError("a comparison needs data.<field>, or auth.<field> against a literal", at);
}

function withTarget(node: PredicateNode, target: Operand): PredicateNode {
  return target.kind === "literal" ? { ...node, value: target.value } : { ...node, valueRef: `${target.root}.${target.path}` };
}
