// @vitest-environment jsdom
import { act, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { FakeServer, handshake } from "../testing/fake-server.ts";
import { cleanUpReact, providing, startClient } from "./testing/react-client.ts";
import { useMap, useORMap } from "./use-map.tsx";

afterEach(cleanUpReact);

describe("useMap", () => {
  it("re-renders with the new entries after a local set()", async () => {
    const client = await startClient();
    const { result } = renderHook(() => useMap<number>("scores"), { wrapper: providing(client) });

    act(() => void client.getMap<number>("scores").set("a", 1));

    expect(result.current).toEqual([["a", 1]]);
  });

  it("re-renders when the server sends a SERVER_EVENT put", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    const { result } = renderHook(() => useMap<string>("m"), { wrapper: providing(client) });
    const timestamp = { millis: Date.now(), counter: 0, nodeId: "other" };

    act(() => socket.deliver({ type: "SERVER_EVENT", payload: { mapName: "m", eventType: "PUT", key: "k", record: { value: "v", timestamp } } }));

    expect(result.current).toEqual([["k", "v"]]);
  });

  it("returns the same array between renders while the entries are unchanged", async () => {
    const client = await startClient();
    client.getMap<number>("scores").set("a", 1);
    const { result, rerender } = renderHook(() => useMap<number>("scores"), { wrapper: providing(client) });
    const first = result.current;

    rerender();

    expect(result.current).toBe(first);
  });
});

describe("useORMap", () => {
  it("re-renders with every value of a key after add()", async () => {
    const client = await startClient();
    const { result } = renderHook(() => useORMap<string>("tags"), { wrapper: providing(client) });

    act(() => {
      client.getORMap<string>("tags").add("post", "red");
      client.getORMap<string>("tags").add("post", "blue");
    });

    expect(result.current).toEqual([["post", ["red", "blue"]]]);
  });
});
