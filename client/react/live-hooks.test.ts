// @vitest-environment jsdom
import { act, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { FakeServer, handshake, until } from "../testing/fake-server.ts";
import { cleanUpReact, providing, startClient } from "./testing/react-client.ts";
import { useConnectionState } from "./use-connection-state.tsx";
import { usePNCounter } from "./use-pn-counter.tsx";
import { useTopic } from "./use-topic.tsx";

afterEach(cleanUpReact);

describe("useConnectionState", () => {
  it("follows the client through the handshake and a dropped socket", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const { result } = renderHook(() => useConnectionState(), { wrapper: providing(client) });
    const seen = [result.current];

    const socket = await act(() => handshake(server));
    seen.push(result.current);
    act(() => socket.drop());
    seen.push(result.current);

    expect(seen).toEqual(["CONNECTING", "CONNECTED", "BACKOFF"]);
  });
});

describe("useTopic", () => {
  it("shows the latest message, calls onMessage, and sends TOPIC_UNSUB on unmount", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    const received: unknown[] = [];
    const { result, unmount } = renderHook(() => useTopic("chat", (m) => received.push(m.data)), { wrapper: providing(client) });

    act(() => socket.deliver({ type: "TOPIC_MESSAGE", payload: { topic: "chat", data: "hi", timestamp: 1 } }));
    const shown = result.current.lastMessage;
    unmount();

    expect(shown?.data).toBe("hi");
    expect(received).toEqual(["hi"]);
    expect(socket.sentOf("TOPIC_UNSUB").map((m) => m.payload.topic)).toEqual(["chat"]);
  });

  it("publishes through the returned function", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    const { result } = renderHook(() => useTopic("chat"), { wrapper: providing(client) });

    result.current.publish({ text: "hello" });

    expect(socket.sentOf("TOPIC_PUB").map((m) => m.payload.data)).toEqual([{ text: "hello" }]);
  });
});

describe("usePNCounter", () => {
  it("re-renders with the value after increment and decrement", async () => {
    const client = await startClient();
    const { result } = renderHook(() => usePNCounter("likes"), { wrapper: providing(client) });

    act(() => result.current.increment(3));
    act(() => result.current.decrement());

    expect(result.current.value).toBe(2);
  });

  it("re-renders when the server's state adds other nodes' counts", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);
    const { result } = renderHook(() => usePNCounter("likes"), { wrapper: providing(client) });
    await until(() => socket.sentOf("COUNTER_REQUEST").length > 0, "COUNTER_REQUEST");

    act(() => socket.deliver({ type: "COUNTER_UPDATE", payload: { name: "likes", state: { p: { other: 5 }, n: {} } } }));

    expect(result.current.value).toBe(5);
  });
});
