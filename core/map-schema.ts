import { dereference, Validator, type OutputUnit, type Schema, type SchemaDraft } from "@cfworker/json-schema";

/**
 * A map's JSON Schema: checked when an admin stores it (`schemaProblem`), compiled once per version
 * (`compileSchema`, `@cfworker/json-schema`, which needs no `eval`) and asked about every written value
 * (`CompiledSchema.violation`). The server and the client use this same module, so both refuse the same values
 * with the same words.
 */

/** A schema as stored and sent: a JSON Schema object, or `true` / `false`. */
export type JsonSchema = { [keyword: string]: unknown } | boolean;

/** A map's schema with the version the namespace's control object gave it. */
export interface MapSchema {
  map: string;
  version: number;
  schema: JsonSchema;
}

/** The `$schema` URIs understood, by the draft each names; without `$schema` a schema is read as 2020-12. */
const DRAFTS: Record<string, SchemaDraft> = {
  "http://json-schema.org/draft-04/schema": "4",
  "http://json-schema.org/draft-07/schema": "7",
  "https://json-schema.org/draft/2019-09/schema": "2019-09",
  "https://json-schema.org/draft/2020-12/schema": "2020-12",
};

const TYPES = new Set(["array", "boolean", "integer", "null", "number", "object", "string"]);
const SCHEMA_KEYWORDS = ["additionalItems", "unevaluatedItems", "contains", "additionalProperties", "unevaluatedProperties", "propertyNames", "not", "if", "then", "else"];
const SCHEMA_ARRAY_KEYWORDS = ["allOf", "anyOf", "oneOf", "prefixItems"];
const SCHEMA_MAP_KEYWORDS = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
const COUNT_KEYWORDS = ["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "minContains", "maxContains"];
const NUMBER_KEYWORDS = ["minimum", "maximum"];
const STRING_KEYWORDS = ["$id", "$anchor", "$comment", "title", "description", "format", "$ref"];

/** A compiled schema: one per map and version. */
export class CompiledSchema {
  readonly map: string;
  readonly version: number;
  readonly #validator: Validator;

  constructor(schema: MapSchema) {
    this.map = schema.map;
    this.version = schema.version;
    // The validator dereferences (and marks) the schema it is given: it gets its own copy.
    this.#validator = new Validator(structuredClone(schema.schema) as Schema | boolean, draftOf(schema.schema), true);
  }

  /** Why `value` does not conform (the failing path and rule), or undefined when it does. */
  violation(value: unknown): string | undefined {
    let errors: OutputUnit[];
    try {
      const result = this.#validator.validate(value);
      if (result.valid) return undefined;
      errors = result.errors;
    } catch (err) {
      // A value the validator cannot walk (e.g. a cycle it cannot reach from msgpack) is not a conforming value.
      return `value does not conform to the schema of map ${this.map}: ${err instanceof Error ? err.message : String(err)}`;
    }
    return violationMessage(this.map, errors);
  }
}

/** Compiles a stored schema (checked with `schemaProblem` when it was stored). */
export function compileSchema(schema: MapSchema): CompiledSchema {
  return new CompiledSchema(schema);
}

/**
 * The words of a refusal: the most specific error the validator found (its last, skipping the bare `false` a
 * closed `additionalProperties` reports under the property), with the value's path and the schema's rule.
 */
export function violationMessage(map: string, errors: readonly OutputUnit[]): string {
  const specific = [...errors].reverse().find((e) => e.keyword !== "false") ?? errors[errors.length - 1];
  if (specific === undefined) return `value does not conform to the schema of map ${map}`;
  const path = specific.instanceLocation.replace(/^#/, "") || "/";
  return `value does not conform to the schema of map ${map} at ${path}: rule ${specific.keywordLocation} (${specific.keyword}): ${specific.error}`;
}

/**
 * Why `schema` is not a JSON Schema this server can enforce, naming where (a JSON pointer into the schema), or
 * undefined when it is one. Checks the type of every keyword's value, the regular expressions, the `$schema`
 * draft and that every `$ref` points inside the schema (nothing is fetched).
 */
export function schemaProblem(schema: unknown): string | undefined {
  if (typeof schema === "boolean") return undefined;
  const shape = shapeProblem(schema, "");
  if (shape !== undefined) return shape;
  const root = schema as Schema;
  if (root.$schema !== undefined && draftOf(root) === undefined) {
    return `/$schema: ${JSON.stringify(root.$schema)} is not a supported draft (${Object.keys(DRAFTS).join(", ")})`;
  }
  let lookup: Record<string, Schema | boolean>;
  const copy = structuredClone(root);
  try {
    lookup = dereference(copy);
  } catch (err) {
    return `$id: ${err instanceof Error ? err.message : String(err)}`;
  }
  for (const [uri, sub] of Object.entries(lookup)) {
    if (typeof sub !== "object" || typeof sub.$ref !== "string") continue;
    const target = sub.__absolute_ref__ ?? sub.$ref;
    if (lookup[target] === undefined) return `${pointerOf(uri)}/$ref: ${JSON.stringify(sub.$ref)} does not point inside the schema`;
  }
  return undefined;
}

/** `value` as a schema this server can enforce, or the problem `schemaProblem` names. */
export function checkSchema(value: unknown): { ok: true; schema: JsonSchema } | { ok: false; problem: string } {
  const problem = schemaProblem(value);
  if (problem !== undefined) return { ok: false, problem };
  return typeof value === "boolean" || isObject(value) ? { ok: true, schema: value } : { ok: false, problem: "/: a schema is an object or a boolean" };
}

/** The draft a schema names with `$schema` (2020-12 without it); undefined for an unknown one. */
function draftOf(schema: JsonSchema): SchemaDraft | undefined {
  if (typeof schema === "boolean" || schema.$schema === undefined) return "2020-12";
  return typeof schema.$schema === "string" ? DRAFTS[schema.$schema.replace(/#$/, "")] : undefined;
}

function pointerOf(uri: string): string {
  const hash = uri.indexOf("#");
  return hash < 0 ? "" : decodeURIComponent(uri.slice(hash + 1));
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The first keyword of `schema` (at `at`, a JSON pointer) whose value has the wrong shape. */
function shapeProblem(schema: unknown, at: string): string | undefined {
  if (typeof schema === "boolean") return undefined;
  if (!isObject(schema)) return `${at || "/"}: a schema is an object or a boolean`;
  const where = (keyword: string) => `${at}/${keyword}`;
  for (const keyword of SCHEMA_KEYWORDS) {
    if (keyword in schema) {
      const problem = shapeProblem(schema[keyword], where(keyword));
      if (problem !== undefined) return problem;
    }
  }
  if ("items" in schema) {
    const items = schema.items;
    const list = Array.isArray(items) ? items.map((item, i) => [item, `${where("items")}/${i}`] as const) : [[items, where("items")] as const];
    for (const [item, path] of list) {
      const problem = shapeProblem(item, path);
      if (problem !== undefined) return problem;
    }
  }
  for (const keyword of SCHEMA_ARRAY_KEYWORDS) {
    if (!(keyword in schema)) continue;
    const list = schema[keyword];
    if (!Array.isArray(list) || list.length === 0) return `${where(keyword)}: must be a non-empty array of schemas`;
    for (const [i, item] of list.entries()) {
      const problem = shapeProblem(item, `${where(keyword)}/${i}`);
      if (problem !== undefined) return problem;
    }
  }
  for (const keyword of SCHEMA_MAP_KEYWORDS) {
    if (!(keyword in schema)) continue;
    const map = schema[keyword];
    if (!isObject(map)) return `${where(keyword)}: must be an object of schemas`;
    for (const [name, item] of Object.entries(map)) {
      const path = `${where(keyword)}/${name.replaceAll("~", "~0").replaceAll("/", "~1")}`;
      if (keyword === "patternProperties" && regexProblem(name) !== undefined) return `${path}: ${regexProblem(name)}`;
      const problem = shapeProblem(item, path);
      if (problem !== undefined) return problem;
    }
  }
  return valueKeywordProblem(schema, where);
}

/** The keywords whose values are not schemas: types, counts, bounds, lists. */
function valueKeywordProblem(schema: Record<string, unknown>, where: (keyword: string) => string): string | undefined {
  if ("type" in schema) {
    const type = schema.type;
    const names = Array.isArray(type) ? type : [type];
    if (names.length === 0) return `${where("type")}: must name at least one type`;
    for (const name of names) {
      if (typeof name !== "string" || !TYPES.has(name)) return `${where("type")}: ${JSON.stringify(name)} is not a JSON Schema type (${[...TYPES].join(", ")})`;
    }
  }
  for (const keyword of COUNT_KEYWORDS) {
    const value = schema[keyword];
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0)) return `${where(keyword)}: must be a non-negative integer`;
  }
  for (const keyword of NUMBER_KEYWORDS) {
    if (keyword in schema && typeof schema[keyword] !== "number") return `${where(keyword)}: must be a number`;
  }
  for (const keyword of ["exclusiveMinimum", "exclusiveMaximum"]) {
    if (keyword in schema && typeof schema[keyword] !== "number" && typeof schema[keyword] !== "boolean") return `${where(keyword)}: must be a number`;
  }
  if ("multipleOf" in schema && !(typeof schema.multipleOf === "number" && schema.multipleOf > 0)) return `${where("multipleOf")}: must be a number above 0`;
  for (const keyword of STRING_KEYWORDS) {
    if (keyword in schema && typeof schema[keyword] !== "string") return `${where(keyword)}: must be a string`;
  }
  if ("pattern" in schema) {
    if (typeof schema.pattern !== "string") return `${where("pattern")}: must be a string`;
    const problem = regexProblem(schema.pattern);
    if (problem !== undefined) return `${where("pattern")}: ${problem}`;
  }
  if ("required" in schema && !(Array.isArray(schema.required) && schema.required.every((name) => typeof name === "string"))) {
    return `${where("required")}: must be an array of property names`;
  }
  if ("enum" in schema && !Array.isArray(schema.enum)) return `${where("enum")}: must be an array`;
  if ("uniqueItems" in schema && typeof schema.uniqueItems !== "boolean") return `${where("uniqueItems")}: must be a boolean`;
  if ("dependentRequired" in schema) {
    const deps = schema.dependentRequired;
    if (!isObject(deps) || !Object.values(deps).every((names) => Array.isArray(names) && names.every((n) => typeof n === "string"))) {
      return `${where("dependentRequired")}: must be an object of property name arrays`;
    }
  }
  return undefined;
}

/** Why `pattern` is not a regular expression the validator can use (it compiles patterns with the `u` flag). */
function regexProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern, "u");
    return undefined;
  } catch (err) {
    return `not a valid regular expression: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Every schema of a namespace at one version of its schema set (which moves on every change). */
export interface SchemaSnapshot {
  version: number;
  schemas: MapSchema[];
}

/** The schema set since a version a partition holds: `schemas` is absent when nothing changed. */
export interface SchemaChanges {
  version: number;
  schemas?: MapSchema[];
}

/**
 * A namespace's schemas at one version, each compiled the first time a value of its map is checked and then kept:
 * a newer set built from this one takes over the compiled schemas whose version did not move.
 */
export class SchemaSet {
  readonly version: number;
  readonly #schemas: ReadonlyMap<string, MapSchema>;
  readonly #compiled = new Map<string, CompiledSchema>();

  constructor(version: number, schemas: readonly MapSchema[], previous?: SchemaSet) {
    this.version = version;
    this.#schemas = new Map(schemas.map((s) => [s.map, s]));
    if (previous === undefined) return;
    for (const [map, compiled] of previous.#compiled) {
      if (this.#schemas.get(map)?.version === compiled.version) this.#compiled.set(map, compiled);
    }
  }

  /** The map's schema as stored, if it has one. */
  schemaOf(map: string): MapSchema | undefined {
    return this.#schemas.get(map);
  }

  /** The map's compiled schema, if it has one (compiled once per version). */
  compiledOf(map: string): CompiledSchema | undefined {
    const schema = this.#schemas.get(map);
    if (schema === undefined) return undefined;
    let compiled = this.#compiled.get(map);
    if (compiled === undefined) {
      compiled = compileSchema(schema);
      this.#compiled.set(map, compiled);
    }
    return compiled;
  }

  /** Why `value` may not be written to `map`, or undefined when it may (or the map has no schema). */
  violation(map: string, value: unknown): string | undefined {
    return this.compiledOf(map)?.violation(value);
  }
}

/** The set of a deployment without schemas. */
export const NO_SCHEMAS = new SchemaSet(0, []);
