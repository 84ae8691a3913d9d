import { describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage } from "../../core/codec.ts";
import { TopGunHttp, TopGunHttpError } from "./http-client.ts";

/** A fetch that records each request and answers with `answer(request)`. */
function fakeFetch(answer: (url: URL, init: RequestInit) => Response) {
  const calls: { url: URL; init: RequestInit }[] = [];
  const fetcher: typeof fetch = async (input, init = {}) => {
    const url = new URL(String(input));
    calls.push({ url, init });
    return answer(url, init);
  };
  return { calls, fetcher };
}

describe("TopGunHttp", () => {
  it("writes a record with the bearer token, the namespace and an encoded path", async () => {
    const { calls, fetcher } = fakeFetch(() => Response.json({ key: "a/b", value: 1, timestamp: { millis: 1, counter: 0, nodeId: "edge-p1" } }));
    const http = new TopGunHttp({ baseUrl: "https://edge.example", token: async () => "t0k", namespace: "acme", fetch: fetcher });
    const written = await http.put("todos", "a/b", 1);
    expect(written.timestamp.nodeId).toBe("edge-p1");
    expect(calls[0]?.url.toString()).toBe("https://edge.example/v1/maps/todos/records/a%2Fb?namespace=acme");
    expect(calls[0]?.init).toMatchObject({ method: "PUT", headers: { Authorization: "Bearer t0k", "Content-Type": "application/json" }, body: '{"value":1}' });
  });

  it("answers undefined for a missing record and throws the server's error otherwise", async () => {
    const { fetcher } = fakeFetch((url) =>
      url.pathname.endsWith("/missing")
        ? Response.json({ error: { code: "not_found", message: "no record" } }, { status: 404 })
        : Response.json({ error: { code: "forbidden", message: "forbidden: read access denied for map: x" } }, { status: 403 }),
    );
    const http = new TopGunHttp({ baseUrl: "https://edge.example", fetch: fetcher });
    expect(await http.get("x", "missing")).toBeUndefined();
    const error = await http.get("x", "other").catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TopGunHttpError);
    expect(error).toMatchObject({ status: 403, code: "forbidden", message: "forbidden: read access denied for map: x" });
  });

  it("reads a map's schema, undefined when the map has none", async () => {
    const { calls, fetcher } = fakeFetch((url) =>
      url.pathname.startsWith("/v1/maps/todos/")
        ? Response.json({ map: "todos", version: 2, schema: { type: "object" } })
        : Response.json({ error: { code: "not_found", message: "map notes has no schema" } }, { status: 404 }),
    );
    const http = new TopGunHttp({ baseUrl: "https://edge.example", fetch: fetcher });
    expect(await http.schema("todos")).toEqual({ map: "todos", version: 2, schema: { type: "object" } });
    expect(calls[0]?.url.pathname).toBe("/v1/maps/todos/schema");
    expect(await http.schema("notes")).toBeUndefined();
  });

  it("sends POST /sync as msgpack and decodes the msgpack answer", async () => {
    const { calls, fetcher } = fakeFetch(() => new Response(encodeMessage({ serverHlc: { millis: 5, counter: 0, nodeId: "edge-p3" }, ack: { lastId: "1" } }), { headers: { "content-type": "application/msgpack" } }));
    const http = new TopGunHttp({ baseUrl: "https://edge.example", fetch: fetcher });
    const answer = await http.sync({ clientId: "job", clientHlc: { millis: 1, counter: 0, nodeId: "job" } });
    expect(answer.ack).toEqual({ lastId: "1" });
    const body = calls[0]?.init.body;
    expect(body).toBeInstanceOf(Uint8Array);
    expect(body instanceof Uint8Array ? decodeMessage(body) : undefined).toEqual({ clientId: "job", clientHlc: { millis: 1, counter: 0, nodeId: "job" } });
    expect(calls[0]?.init.headers).toEqual({ "Content-Type": "application/msgpack" });
  });
});
