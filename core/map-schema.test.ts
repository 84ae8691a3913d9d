import { describe, expect, it } from "vitest";
import { compileSchema, SchemaSet, schemaProblem, type JsonSchema } from "./map-schema.ts";

const todo: JsonSchema = {
  type: "object",
  required: ["title"],
  properties: { title: { type: "string", maxLength: 20 }, done: { type: "boolean" }, tags: { type: "array", items: { type: "string" } } },
  additionalProperties: false,
};
const compiled = (schema: JsonSchema) => compileSchema({ map: "todos", version: 1, schema });

describe("a map's schema", () => {
  it("accepts a value that conforms", () => {
    expect(compiled(todo).violation({ title: "milk", done: false, tags: ["a"] })).toBeUndefined();
  });

  it("names the failing path and rule of a value that does not conform", () => {
    expect(compiled(todo).violation({ title: 5 })).toBe(
      'value does not conform to the schema of map todos at /title: rule #/properties/title/type (type): Instance type "number" is invalid. Expected "string".',
    );
    expect(compiled(todo).violation({ title: "a", tags: ["x", 3] })).toContain("at /tags/1: rule #/properties/tags/items/type (type)");
    expect(compiled(todo).violation({})).toContain('at /: rule #/required (required): Instance does not have required property "title".');
  });

  it("names the property a closed object refuses, not the bare false schema", () => {
    expect(compiled(todo).violation({ title: "a", extra: 1 })).toContain('at /: rule #/additionalProperties (additionalProperties): Property "extra" does not match');
  });

  it("follows local $refs and the draft named by $schema", () => {
    const schema = { $schema: "http://json-schema.org/draft-07/schema#", definitions: { n: { type: "integer" } }, properties: { n: { $ref: "#/definitions/n" } } };
    expect(schemaProblem(schema)).toBeUndefined();
    expect(compiled(schema).violation({ n: 1.5 })).toContain("at /n");
    expect(compiled(schema).violation({ n: 2 })).toBeUndefined();
  });

  it("treats true as anything and false as nothing", () => {
    expect(compiled(true).violation({ any: 1 })).toBeUndefined();
    expect(compiled(false).violation(1)).toContain("at /");
  });

  it("leaves the schema it was given unchanged", () => {
    const schema = { properties: { a: { $ref: "#/$defs/a" } }, $defs: { a: { type: "string" } } };
    const before = JSON.stringify(schema);
    compiled(schema).violation({ a: 1 });
    expect(JSON.stringify(schema)).toBe(before);
    expect(Object.getOwnPropertyNames(schema.properties.a)).toEqual(["$ref"]);
  });
});

describe("checking a schema before it is stored", () => {
  it.each([
    [[], "/: a schema is an object or a boolean"],
    ["string", "/: a schema is an object or a boolean"],
    [{ type: "numbr" }, '/type: "numbr" is not a JSON Schema type'],
    [{ properties: { age: { type: ["integer", 3] } } }, "/properties/age/type: 3 is not a JSON Schema type"],
    [{ properties: [] }, "/properties: must be an object of schemas"],
    [{ properties: { a: 5 } }, "/properties/a: a schema is an object or a boolean"],
    [{ minLength: -1 }, "/minLength: must be a non-negative integer"],
    [{ maximum: "10" }, "/maximum: must be a number"],
    [{ multipleOf: 0 }, "/multipleOf: must be a number above 0"],
    [{ pattern: "(" }, "/pattern: not a valid regular expression"],
    [{ patternProperties: { "[": {} } }, "/patternProperties/[: not a valid regular expression"],
    [{ required: "title" }, "/required: must be an array of property names"],
    [{ anyOf: [] }, "/anyOf: must be a non-empty array of schemas"],
    [{ items: { type: "x" } }, '/items/type: "x" is not a JSON Schema type'],
    [{ $schema: "http://example.com/mine" }, '/$schema: "http://example.com/mine" is not a supported draft'],
    [{ properties: { a: { $ref: "#/$defs/missing" } } }, '/properties/a/$ref: "#/$defs/missing" does not point inside the schema'],
    [{ $ref: "https://example.com/remote.json" }, '/$ref: "https://example.com/remote.json" does not point inside the schema'],
  ])("refuses %j, naming the problem", (schema, problem) => {
    expect(schemaProblem(schema)).toContain(problem);
  });

  it.each([[true], [false], [{}], [todo], [{ $defs: { a: { $anchor: "x", type: "string" } }, $ref: "#x" }]])("accepts %j", (schema) => {
    expect(schemaProblem(schema)).toBeUndefined();
  });
});

describe("a namespace's schema set", () => {
  const schema = { map: "todos", version: 3, schema: { type: "object" } } as const;

  it("checks only maps that have a schema", () => {
    const set = new SchemaSet(3, [schema]);
    expect(set.violation("todos", 1)).toContain("at /");
    expect(set.violation("notes", 1)).toBeUndefined();
  });

  it("compiles a schema once and keeps it in the next set while its version holds", () => {
    const first = new SchemaSet(3, [schema]);
    const compiled = first.compiledOf("todos");
    expect(first.compiledOf("todos")).toBe(compiled);
    expect(new SchemaSet(4, [schema, { map: "notes", version: 4, schema: true }], first).compiledOf("todos")).toBe(compiled);
    expect(new SchemaSet(5, [{ ...schema, version: 5 }], first).compiledOf("todos")).not.toBe(compiled);
  });
});
