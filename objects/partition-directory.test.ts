import { describe, expect, it } from "vitest";
import { PartitionPorts } from "./partition-directory.ts";

/** A thenable that is not a native Promise (a Durable Object stub's RPC call answers workerd's own RPC promise). */
const rejectingThenable = (err: Error): PromiseLike<never> => ({
  then: (_onFulfilled, onRejected) => Promise.reject(err).then(undefined, onRejected),
});

function portsMaking(method: () => unknown) {
  let made = 0;
  const ports = new PartitionPorts(() => {
    made++;
    return { call: method };
  });
  return { ports, made: () => made };
}

describe("PartitionPorts", () => {
  it("makes one port per partition and reuses it while its calls succeed", async () => {
    const { ports, made } = portsMaking(() => Promise.resolve("ok"));
    await expect(ports.get(3).call()).resolves.toBe("ok");
    await expect(ports.get(3).call()).resolves.toBe("ok");
    ports.get(4);
    expect(made()).toBe(2);
  });

  it("drops a port whose call's thenable rejects, native Promise or not, passing the error on", async () => {
    const { ports, made } = portsMaking(() => rejectingThenable(new Error("stub broken")));
    await expect(ports.get(3).call()).rejects.toThrow("stub broken");
    ports.get(3);
    expect(made()).toBe(2);
  });

  it("drops a port whose call throws at once, passing the error on", () => {
    const { ports, made } = portsMaking(() => {
      throw new Error("no binding");
    });
    expect(() => ports.get(3).call()).toThrow("no binding");
    ports.get(3);
    expect(made()).toBe(2);
  });
});
