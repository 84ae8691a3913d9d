import { describe, expect, it } from "vitest";
import { FakeServer, handshake, until } from "./testing/fake-server.ts";
import { startedClients } from "./testing/started-clients.ts";
import { SqlError } from "./sql-requests.ts";

const startClient = startedClients();

describe("queries of TopGun main in the client", () => {
  it("evaluates _key locally as the record key, as the server does", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const tasks = client.getMap<{ n: number }>("tasks");
    tasks.set("a", { n: 1 });
    tasks.set("b", { n: 2 });

    const query = client.query<{ n: number }>("tasks", { predicate: { op: "in", attribute: "_key", value: ["b"] } });

    expect(query.results()).toEqual([["b", { n: 2 }]]);
  });

  it("sends fields beside the query and projects local results to them", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    client.getMap("tasks").set("a", { title: "A", secret: 1 });
    const socket = await handshake(server);

    const query = client.query("tasks", {}, { fields: ["title"] });
    await until(() => socket.sentOf("QUERY_SUB").length > 0, "QUERY_SUB");

    expect(socket.sentOf("QUERY_SUB")[0]?.payload.fields).toEqual(["title"]);
    expect(query.results()).toEqual([["a", { title: "A" }]]);
  });

  it("shows a grouped query's rows from the server only, never local records", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    client.getMap("orders").set("o1", { status: "open" });
    const socket = await handshake(server);

    const query = client.query("orders", { groupBy: ["status"] });
    expect(query.results()).toEqual([]);
    await until(() => socket.sentOf("QUERY_SUB").length > 0, "QUERY_SUB");
    const queryId = socket.sentOf("QUERY_SUB")[0]?.payload.queryId ?? "";
    socket.deliver({ type: "QUERY_RESP", payload: { queryId, results: [{ key: "g1", value: { status: "open", __count: 1 } }] } });
    client.getMap("orders").set("o2", { status: "open" });

    expect(query.results()).toEqual([["g1", { status: "open", __count: 1 }]]);
  });

  it("resolves sql() with columns and rows, and rejects with the server's error and code", async () => {
    const server = new FakeServer();
    const client = await startClient(server);
    const socket = await handshake(server);

    const ok = client.sql("SELECT _key FROM t");
    const refused = client.sql("DELETE FROM t");
    await until(() => socket.sentOf("SQL_QUERY").length === 2, "two SQL_QUERYs");
    const [first, second] = socket.sentOf("SQL_QUERY").map((m) => m.payload.queryId);
    socket.deliver({ type: "SQL_QUERY_RESP", payload: { queryId: first ?? "", columns: ["_key"], rows: [["a"]] } });
    socket.deliver({ type: "SQL_QUERY_RESP", payload: { queryId: second ?? "", columns: [], rows: [], error: "unsupported SQL: DELETE", code: "UNSUPPORTED" } });

    expect(await ok).toEqual({ columns: ["_key"], rows: [["a"]] });
    const error = await refused.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SqlError);
    expect(error).toMatchObject({ message: "unsupported SQL: DELETE", code: "UNSUPPORTED" });
  });
});
