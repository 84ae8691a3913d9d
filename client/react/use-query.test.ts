// @vitest-environment jsdom
import { act, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { Query } from "../../core/protocol/shared.ts";
import { FakeServer, handshake } from "../testing/fake-server.ts";
import { cleanUpReact, providing, startClient } from "./testing/react-client.ts";
import { useQuery, useSearch } from "./use-query.tsx";

afterEach(cleanUpReact);

async function connected() {
  const server = new FakeServer();
  const client = await startClient(server);
  const socket = await handshake(server);
  return { client, socket };
}

describe("useQuery", () => {
  it("is loading until QUERY_RESP, then shows its results", async () => {
    const { client, socket } = await connected();
    const { result } = renderHook(() => useQuery<number>("scores", { where: { team: "a" } }), { wrapper: providing(client) });
    const loadingBefore = result.current.loading;
    const queryId = socket.sentOf("QUERY_SUB")[0]?.payload.queryId ?? "";

    act(() => socket.deliver({ type: "QUERY_RESP", payload: { queryId, results: [{ key: "x", value: 1 }] } }));

    expect(loadingBefore).toBe(true);
    expect(result.current).toEqual({ results: [["x", 1]], loading: false });
  });

  it("sends QUERY_UNSUB for its query on unmount", async () => {
    const { client, socket } = await connected();
    const { unmount } = renderHook(() => useQuery("scores"), { wrapper: providing(client) });
    const queryId = socket.sentOf("QUERY_SUB")[0]?.payload.queryId;

    unmount();

    expect(socket.sentOf("QUERY_UNSUB").map((m) => m.payload.queryId)).toEqual([queryId]);
  });

  it("resubscribes when the query's contents change but not for an equal new object", async () => {
    const { client, socket } = await connected();
    const { rerender } = renderHook((query: Query) => useQuery("scores", query), { wrapper: providing(client), initialProps: { where: { team: "a" } } });

    rerender({ where: { team: "a" } });
    rerender({ where: { team: "b" } });

    expect(socket.sentOf("QUERY_SUB").map((m) => m.payload.query)).toEqual([{ where: { team: "a" } }, { where: { team: "b" } }]);
    expect(socket.sentOf("QUERY_UNSUB")).toHaveLength(1);
  });
});

describe("useSearch", () => {
  it("shows the hits of SEARCH_RESP and sends SEARCH_UNSUB on unmount", async () => {
    const { client, socket } = await connected();
    const { result, unmount } = renderHook(() => useSearch("docs", "hello", { limit: 5 }), { wrapper: providing(client) });
    const sub = socket.sentOf("SEARCH_SUB")[0];
    const subscriptionId = sub?.payload.subscriptionId ?? "";
    const hit = { key: "d1", value: null, score: 1, matchedTerms: ["hello"] };

    act(() => socket.deliver({ type: "SEARCH_RESP", payload: { requestId: subscriptionId, results: [hit], totalCount: 1 } }));
    const shown = result.current;
    unmount();

    expect(sub?.payload.options).toEqual({ limit: 5 });
    expect(shown).toEqual({ results: [hit], loading: false });
    expect(socket.sentOf("SEARCH_UNSUB").map((m) => m.payload.subscriptionId)).toEqual([subscriptionId]);
  });
});
