import { describe, expect, it } from "vitest";
import { homePartitionAt, homePartitionOfClient, partitionOfName, partitionOfShard } from "../core/placement.ts";
import type { IRequest } from "itty-router";
import type { Env } from "../objects/env.ts";
import { chooseHomePartition, readNamespace } from "./home-partition.ts";
import { upgradeToHome } from "./routes/websocket.ts";

describe("chooseHomePartition", () => {
  it("homes a connection at the partition of the map named in the URL", () => {
    expect(chooseHomePartition(new URL("http://x/ws?map=todos&clientId=c1"))).toBe(partitionOfShard("todos", 0));
  });

  it("homes a connection by its client id, among 16 partitions by default, when no map is named", () => {
    expect(chooseHomePartition(new URL("http://x/ws?clientId=c1"))).toBe(homePartitionOfClient("c1"));
    const homes = new Set(Array.from({ length: 1000 }, (_, i) => chooseHomePartition(new URL(`http://x/ws?clientId=client-${i}`))));
    expect(homes.size).toBe(16);
  });

  it("spreads client ids over as many partitions as TOPGUN_HOME_PARTITIONS says; 271 is one home per partition hash", () => {
    expect(chooseHomePartition(new URL("http://x/ws?clientId=c1"), 271)).toBe(partitionOfName("c1"));
    const homes = new Set(Array.from({ length: 1000 }, (_, i) => chooseHomePartition(new URL(`http://x/ws?clientId=client-${i}`), 4)));
    expect([...homes].sort((a, b) => a - b)).toEqual([0, 67, 135, 203]);
  });

  it("homes a connection at random among the homes when the URL names neither", () => {
    expect(chooseHomePartition(new URL("http://x/ws"), 16, () => 0.5)).toBe(homePartitionAt(8, 16));
    expect(chooseHomePartition(new URL("http://x/ws"), 271, () => 0.5)).toBe(135);
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

describe("upgradeToHome", () => {
  it("answers 500 naming TOPGUN_HOME_PARTITIONS when the setting is not a home count, and reaches no object", async () => {
    const env = { TOPGUN_HOME_PARTITIONS: "300", PARTITION: undefined } as unknown as Env;
    const request = new Request("http://x/ws?clientId=c1", { headers: { Upgrade: "websocket" } });
    const response = await upgradeToHome(request as unknown as IRequest, env);
    expect(response.status).toBe(500);
    expect(await response.text()).toContain("TOPGUN_HOME_PARTITIONS must be a whole number in 1..271");
  });
});
