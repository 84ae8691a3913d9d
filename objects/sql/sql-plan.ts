// Turns the AST of one SELECT over one map into a plan for the query engine (PROTOCOL-NEXT.md §7), or names the
// part of the statement the edge does not support. Reads the parser's AST as unknown data.
import { MAX_MAP_NAME_LENGTH, MAX_QUERY_LIMIT } from "../../core/limits.ts";
import { KEY_ATTRIBUTE, type SortKey } from "../../core/predicate.ts";
import type { Aggregation, AggregateFunction, PredicateNode } from "../../core/protocol/shared.ts";

/** Where an output column's values come from. */
export type SqlSource = { kind: "key" } | { kind: "field"; field: string } | { kind: "row"; field: string };

export interface SqlColumn {
  name: string;
  source: SqlSource;
}

/** A SELECT translated into the query engine's terms. */
export interface SqlPlan {
  map: string;
  /** `*`: the key and every field of the results. */
  star: boolean;
  columns: SqlColumn[];
  predicate?: PredicateNode;
  /** Present when the query groups (GROUP BY, or aggregates over the whole map). */
  group?: { groupBy: string[]; aggregations: Aggregation[]; having?: PredicateNode };
  /** For a grouped query, the fields of the group rows (`status`, `__count`, `__sum_amount`, …). */
  sort: SortKey[];
  limit?: number;
  offset: number;
}

/** A statement the edge refuses, with a message that names the unsupported part. */
export class SqlUnsupported extends Error {}

type Node = Record<string, unknown>;

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function unsupported(what: string): never {
  throw new SqlUnsupported(`unsupported SQL: ${what}`);
}

const AGGREGATES: Record<string, AggregateFunction> = { COUNT: "count", SUM: "sum", MIN: "min", MAX: "max", AVG: "avg" };

/** The plan of a parsed statement; throws SqlUnsupported. */
export function planSelect(ast: unknown): SqlPlan {
  if (Array.isArray(ast)) {
    if (ast.length !== 1) unsupported("more than one statement");
    return planSelect(ast[0]);
  }
  if (!isNode(ast)) unsupported("an empty statement");
  if (ast.type !== "select") unsupported(`${String(ast.type).toUpperCase()} statements (only SELECT is supported)`);
  if (ast.with) unsupported("WITH");
  if (ast._next || ast.set_op) unsupported(`${String(ast.set_op ?? "set operation").toUpperCase()}`);
  if (ast.distinct) unsupported("DISTINCT");
  if (ast.for_update) unsupported("FOR UPDATE");
  if (ast.into && isNode(ast.into) && ast.into.type) unsupported("INTO");
  const { map, alias } = tableOf(ast.from);
  const refs = new ColumnRefs(map, alias);
  const aggregations: Aggregation[] = [];
  const aggregateField = (expr: Node) => {
    const agg = aggregationOf(expr, refs);
    if (!aggregations.some((a) => a.func === agg.func && a.field === agg.field)) aggregations.push(agg);
    return rowFieldOf(agg);
  };

  const groupBy = groupByOf(ast.groupby, refs);
  const selected = selectList(ast.columns);
  const star = selected.length === 1 && selected[0] !== undefined && isStar(selected[0].expr);
  const hasAggregate = selected.some((c) => isNode(c.expr) && c.expr.type === "aggr_func") || ast.having != null;
  const grouped = groupBy !== undefined || hasAggregate;
  if (star && grouped) unsupported("SELECT * with GROUP BY or aggregates");

  const columns: SqlColumn[] = star
    ? []
    : selected.map(({ expr, as }) => {
        if (isStar(expr)) unsupported("* beside other columns");
        if (expr.type === "aggr_func") {
          if (!grouped) unsupported("aggregates"); // unreachable: an aggregate makes the query grouped
          return { name: as ?? aggregateLabel(expr, refs), source: { kind: "row", field: aggregateField(expr) } };
        }
        if (expr.type !== "column_ref") unsupported(describe(expr));
        const field = refs.field(expr);
        if (!grouped) return { name: as ?? field, source: field === KEY_ATTRIBUTE ? { kind: "key" } : { kind: "field", field } };
        if (!(groupBy ?? []).includes(field)) unsupported(`column ${field} outside GROUP BY and aggregates`);
        return { name: as ?? field, source: { kind: "row", field } };
      });

  const predicate = ast.where == null ? undefined : predicateOf(ast.where, (expr) => refs.attribute(expr));
  let having: PredicateNode | undefined;
  if (ast.having != null) {
    having = predicateOf(ast.having, (expr) => {
      if (expr.type === "aggr_func") return aggregateField(expr);
      const field = refs.attribute(expr);
      if (!(groupBy ?? []).includes(field)) unsupported(`HAVING on ${field}, which is outside GROUP BY`);
      return field;
    });
  }
  const sort = orderByOf(ast.orderby, { columns, refs, grouped, groupBy: groupBy ?? [], aggregateField });
  const { limit, offset } = limitOf(ast.limit);
  return {
    map,
    star,
    columns,
    ...(predicate ? { predicate } : {}),
    ...(grouped ? { group: { groupBy: groupBy ?? [], aggregations, ...(having ? { having } : {}) } } : {}),
    sort,
    ...(limit === undefined ? {} : { limit }),
    offset,
  };
}

/** Column references: a bare name, or qualified by the table's name or alias. */
class ColumnRefs {
  readonly #names: Set<string>;

  constructor(map: string, alias: string | undefined) {
    this.#names = new Set([map, ...(alias ? [alias] : [])]);
  }

  /** The field a column_ref names (`_key` included). */
  field(expr: Node): string {
    if (expr.type !== "column_ref") unsupported(describe(expr));
    if (expr.table != null && !(typeof expr.table === "string" && this.#names.has(expr.table))) {
      unsupported(`column of another table (${String(expr.table)})`);
    }
    const column = expr.column;
    const name = typeof column === "string" ? column : isNode(column) && isNode(column.expr) ? column.expr.value : undefined;
    if (typeof name !== "string" || name === "*") unsupported(describe(expr));
    return name;
  }

  /** The attribute of a predicate leaf. */
  attribute(expr: Node): string {
    return this.field(expr);
  }
}

function tableOf(from: unknown): { map: string; alias: string | undefined } {
  if (!Array.isArray(from) || from.length === 0) unsupported("SELECT without FROM");
  if (from.length > 1) unsupported(isNode(from[1]) && from[1].join ? `${String(from[1].join)}` : "more than one table (JOIN)");
  const table: unknown = from[0];
  if (!isNode(table) || typeof table.table !== "string") unsupported("a subquery or expression in FROM");
  if (table.join) unsupported(String(table.join));
  if (table.db != null) unsupported("a schema-qualified table");
  if (table.table.length === 0 || table.table.length > MAX_MAP_NAME_LENGTH) unsupported("a map name of that length");
  return { map: table.table, alias: typeof table.as === "string" ? table.as : undefined };
}

function selectList(columns: unknown): { expr: Node; as: string | undefined }[] {
  if (!Array.isArray(columns)) unsupported("this select list");
  return columns.map((c: unknown) => {
    if (!isNode(c) || !isNode(c.expr)) unsupported("this select list");
    return { expr: c.expr, as: typeof c.as === "string" ? c.as : undefined };
  });
}

function isStar(expr: Node): boolean {
  return (expr.type === "column_ref" && expr.column === "*") || expr.type === "star";
}

function groupByOf(groupby: unknown, refs: ColumnRefs): string[] | undefined {
  if (groupby == null) return undefined;
  const list = isNode(groupby) ? groupby.columns : groupby;
  if (!Array.isArray(list)) unsupported("this GROUP BY");
  return list.map((expr: unknown) => {
    if (!isNode(expr) || expr.type !== "column_ref") unsupported(`GROUP BY on ${isNode(expr) ? describe(expr) : "an expression"}`);
    const field = refs.field(expr);
    if (field === KEY_ATTRIBUTE) unsupported("GROUP BY _key");
    return field;
  });
}

function aggregationOf(expr: Node, refs: ColumnRefs): Aggregation {
  const name = String(expr.name).toUpperCase();
  const func = AGGREGATES[name];
  if (!func) unsupported(`aggregate ${name}`);
  const args = isNode(expr.args) ? expr.args : {};
  if (args.distinct) unsupported(`${name}(DISTINCT …)`);
  if (expr.over) unsupported("window functions (OVER)");
  const arg = isNode(args.expr) ? args.expr : undefined;
  if (func === "count") {
    if (arg && isStar(arg)) return { func };
    unsupported("COUNT of a column (use COUNT(*))");
  }
  if (!arg || arg.type !== "column_ref") unsupported(`${name} of ${arg ? describe(arg) : "nothing"}`);
  const field = refs.field(arg);
  if (field === KEY_ATTRIBUTE) unsupported(`${name}(_key)`);
  return { func, field };
}

/** The group-row field an aggregation's value sits in (PROTOCOL-NEXT.md §4.3). */
function rowFieldOf(agg: Aggregation): string {
  return agg.func === "count" ? "__count" : `__${agg.func}_${agg.field ?? ""}`;
}

function aggregateLabel(expr: Node, refs: ColumnRefs): string {
  const agg = aggregationOf(expr, refs);
  return `${agg.func.toUpperCase()}(${agg.field ?? "*"})`;
}

const COMPARISONS: Record<string, { op: PredicateNode["op"]; flipped: PredicateNode["op"] }> = {
  "=": { op: "eq", flipped: "eq" },
  "==": { op: "eq", flipped: "eq" },
  "!=": { op: "neq", flipped: "neq" },
  "<>": { op: "neq", flipped: "neq" },
  ">": { op: "gt", flipped: "lt" },
  ">=": { op: "gte", flipped: "lte" },
  "<": { op: "lt", flipped: "gt" },
  "<=": { op: "lte", flipped: "gte" },
};

/** A WHERE or HAVING expression as a predicate tree; `attribute` names what a column or aggregate reads. */
function predicateOf(expr: unknown, attribute: (expr: Node) => string): PredicateNode {
  if (!isNode(expr)) unsupported("this condition");
  const recurse = (e: unknown) => predicateOf(e, attribute);
  if (expr.type === "unary_expr" && String(expr.operator).toUpperCase() === "NOT") return { op: "not", children: [recurse(expr.expr)] };
  if (expr.type === "function" && functionName(expr) === "NOT") {
    const args = isNode(expr.args) && Array.isArray(expr.args.value) ? expr.args.value : [];
    return { op: "not", children: [recurse(args[0])] };
  }
  if (expr.type !== "binary_expr") unsupported(`${describe(expr)} as a condition`);
  const operator = String(expr.operator).toUpperCase();
  if (operator === "AND" || operator === "OR") {
    const op = operator === "AND" ? "and" : "or";
    const children = [recurse(expr.left), recurse(expr.right)].flatMap((c) => (c.op === op && c.children ? c.children : [c]));
    return { op, children };
  }
  const left = isNode(expr.left) ? expr.left : {};
  const right = isNode(expr.right) ? expr.right : {};
  const negate = (node: PredicateNode): PredicateNode => ({ op: "not", children: [node] });
  const column = (e: Node) => (e.type === "column_ref" || e.type === "aggr_func" ? attribute(e) : undefined);
  const comparison = COMPARISONS[operator];
  if (comparison) {
    const leftAttr = column(left);
    if (leftAttr !== undefined) return { op: comparison.op, attribute: leftAttr, value: literalOf(right) };
    const rightAttr = column(right);
    if (rightAttr !== undefined) return { op: comparison.flipped, attribute: rightAttr, value: literalOf(left) };
    unsupported("a comparison without a column");
  }
  const attr = column(left);
  if (attr === undefined) unsupported(`${operator} without a column on its left`);
  switch (operator) {
    case "LIKE":
    case "NOT LIKE": {
      const node: PredicateNode = { op: "like", attribute: attr, value: literalOf(right) };
      return operator === "LIKE" ? node : negate(node);
    }
    case "IN":
    case "NOT IN": {
      if (right.type !== "expr_list" || !Array.isArray(right.value)) unsupported(`${operator} with a subquery`);
      const node: PredicateNode = { op: "in", attribute: attr, value: right.value.map((v: unknown) => literalOf(v)) };
      return operator === "IN" ? node : negate(node);
    }
    case "BETWEEN":
    case "NOT BETWEEN": {
      const bounds = right.type === "expr_list" && Array.isArray(right.value) ? right.value : [];
      if (bounds.length !== 2) unsupported(`${operator} without two bounds`);
      const node: PredicateNode = { op: "between", attribute: attr, value: bounds.map((v: unknown) => literalOf(v)) };
      return operator === "BETWEEN" ? node : negate(node);
    }
    case "IS":
    case "IS NOT":
      if (right.type !== "null") unsupported(`${operator} ${describe(right)}`);
      return { op: operator === "IS" ? "isNull" : "isNotNull", attribute: attr };
    default:
      return unsupported(`operator ${operator}`);
  }
}

function functionName(expr: Node): string {
  const name = isNode(expr.name) && Array.isArray(expr.name.name) ? expr.name.name[0] : expr.name;
  const value = isNode(name) ? name.value : name;
  return String(value).toUpperCase();
}

/** A literal operand: numbers, strings, booleans and NULL. */
function literalOf(expr: unknown): unknown {
  if (!isNode(expr)) unsupported("this operand");
  if (isNode(expr.ast)) unsupported("subqueries");
  switch (expr.type) {
    case "number": {
      const n = Number(expr.value);
      if (!Number.isFinite(n)) unsupported(`the number ${String(expr.value)}`);
      return n;
    }
    case "single_quote_string":
    case "double_quote_string":
    case "string":
    case "natural_string":
      return String(expr.value);
    case "bool":
      return expr.value === true;
    case "null":
      return null;
    case "origin":
      return unsupported(`parameter ${String(expr.value)} (bind values into the text)`);
    default:
      return unsupported(`${describe(expr)} as an operand`);
  }
}

/** ORDER BY: columns, aliases and select-list positions; aggregates and group fields of a grouped query. */
function orderByOf(
  orderby: unknown,
  ctx: { columns: SqlColumn[]; refs: ColumnRefs; grouped: boolean; groupBy: string[]; aggregateField: (expr: Node) => string },
): SortKey[] {
  if (orderby == null) return [];
  if (!Array.isArray(orderby)) unsupported("this ORDER BY");
  return orderby.map((item: unknown) => {
    if (!isNode(item) || !isNode(item.expr)) unsupported("this ORDER BY");
    const direction = String(item.type).toUpperCase() === "DESC" ? "desc" : "asc";
    const expr = item.expr;
    let column: SqlColumn | undefined;
    if (expr.type === "number") {
      column = ctx.columns[Number(expr.value) - 1];
      if (!column) unsupported(`ORDER BY position ${String(expr.value)}`);
    } else if (expr.type === "column_ref" && typeof expr.column === "string" && expr.table == null) {
      column = ctx.columns.find((c) => c.name === expr.column);
    }
    if (column) return { field: column.source.kind === "key" ? KEY_ATTRIBUTE : column.source.field, direction };
    if (ctx.grouped) {
      if (expr.type === "aggr_func") return { field: ctx.aggregateField(expr), direction };
      const field = ctx.refs.field(expr);
      if (!ctx.groupBy.includes(field)) unsupported(`ORDER BY ${field}, which is outside GROUP BY`);
      return { field, direction };
    }
    if (expr.type !== "column_ref") unsupported(`ORDER BY ${describe(expr)}`);
    return { field: ctx.refs.field(expr), direction };
  });
}

function limitOf(limit: unknown): { limit: number | undefined; offset: number } {
  if (!isNode(limit) || !Array.isArray(limit.value) || limit.value.length === 0) return { limit: undefined, offset: 0 };
  const numbers = limit.value.map((v: unknown) => {
    if (!isNode(v) || v.type !== "number") unsupported("LIMIT or OFFSET that is not a number");
    const n = Number(v.value);
    if (!Number.isInteger(n) || n < 0) unsupported(`LIMIT or OFFSET ${String(v.value)}`);
    return n;
  });
  // `LIMIT a, b` is offset a, limit b; `LIMIT a OFFSET b` is limit a, offset b.
  const [first = 0, second] = numbers;
  const [count, offset] = second === undefined ? [first, 0] : limit.seperator === "," ? [second, first] : [first, second];
  if (count > MAX_QUERY_LIMIT) unsupported(`LIMIT above ${MAX_QUERY_LIMIT}`);
  return { limit: count, offset };
}

/** A short name of an expression node for messages. */
function describe(expr: Node): string {
  switch (expr.type) {
    case "function":
      return `function ${functionName(expr)}`;
    case "aggr_func":
      return `aggregate ${String(expr.name).toUpperCase()}`;
    case "binary_expr":
      return `expression with ${String(expr.operator)}`;
    case "case":
      return "CASE";
    case "cast":
      return "CAST";
    default:
      return isNode(expr.ast) || expr.type === "select" ? "subqueries" : `${String(expr.type ?? "expression")}`;
  }
}
