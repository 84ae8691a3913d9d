import { createServer, connect, type Server, type Socket } from "node:net";

/**
 * A TCP proxy on a fixed local port in front of another local port, that a test can cut and restore: how the
 * e2e tests make Postgres unreachable for the server and bring it back.
 */
export class TcpProxy {
  readonly #targetPort: number;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #port = 0;

  private constructor(targetPort: number) {
    this.#targetPort = targetPort;
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort);
    await proxy.resume();
    return proxy;
  }

  get port(): number {
    return this.#port;
  }

  /** Stops accepting and drops every open connection: the target looks down. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accepts again on the same port. */
  async resume(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.#targetPort, "127.0.0.1");
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on("close", () => this.#sockets.delete(socket));
        socket.on("error", () => socket.destroy()); // The peer went away; closing both sides is all there is to do.
      }
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    this.#port = typeof address === "object" && address !== null ? address.port : this.#port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}
