import { describe, expect, it } from "vitest";
import { partitionOfName, partitionOfShard } from "../core/placement.ts";
import { chooseHomePartition, readNamespace } from "./home-partition.ts";

describe("chooseHomePartition", () => {
  it("homes a connection at the partition of the map named in the URL", () => {
    expect(chooseHomePartition(new URL("http://x/ws?map=todos&clientId=c1"))).toBe(partitionOfShard("todos", 0));
  });

  it("homes a connection by its client id when no map is named", () => {
    expect(chooseHomePartition(new URL("http://x/ws?clientId=c1"))).toBe(partitionOfName("c1"));
  });

  it("homes a connection at random when the URL names neither", () => {
    expect(chooseHomePartition(new URL("http://x/ws"), () => 0.5)).toBe(135);
  });
});

describe("readNamespace", () => {
  it("uses the default namespace when none is given", () => {
    expect(readNamespace(new URL("http://x/ws"))).toBe("default");
  });

  it("refuses a namespace that cannot be part of an object name", () => {
    expect(readNamespace(new URL("http://x/ws?namespace=Bad%20Name"))).toBeUndefined();
    expect(readNamespace(new URL("http://x/ws?namespace=a%2Fp1"))).toBeUndefined();
  });
});
