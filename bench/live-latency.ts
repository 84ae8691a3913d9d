import { BenchSocket } from "./bench-socket.ts";
import { percentiles } from "./measure.ts";

type WsUrl = (params: Record<string, string>) => string;
const WRITES = 200;
const SUBSCRIBER_SOCKETS = 10;
const QUERIES_PER_SOCKET = 10;
const TOPIC_SUBSCRIBERS = 100;
const PUBLISHES = 200;

/** Sends a PING and waits for its PONG: every message sent before it on this socket has been handled. */
async function barrier(socket: BenchSocket): Promise<void> {
  const pong = socket.next("PONG");
  socket.send({ type: "PING", timestamp: Date.now() });
  await pong;
}

/**
 * Latency from a write to the subscribers' QUERY_UPDATEs with 100 live queries open (10 sockets on different home
 * partitions × 10 queries, one per value group); each write matches one query on every socket.
 */
export async function queryLatency(wsUrl: WsUrl) {
  const map = `bench-query-${Date.now()}`;
  const subscribers = await Promise.all(
    Array.from({ length: SUBSCRIBER_SOCKETS }, (_, i) => BenchSocket.open(wsUrl({ clientId: `bench-query-sub-${i}` }))),
  );
  for (const [i, socket] of subscribers.entries()) {
    for (let group = 0; group < QUERIES_PER_SOCKET; group++) {
      const resp = socket.next("QUERY_RESP");
      socket.send({ type: "QUERY_SUB", payload: { queryId: `q-${i}-${group}`, mapName: map, query: { where: { group } } } });
      await resp;
    }
  }
  const writer = await BenchSocket.open(wsUrl({ map }));
  writer.onMessage(() => undefined);
  const samples: number[] = [];
  for (let n = 0; n < WRITES; n++) {
    const key = `k${n}`;
    const sentAt = performance.now();
    const arrivals = subscribers.map(
      (socket) =>
        new Promise<void>((resolve) => {
          socket.onMessage((message) => {
            if (message.type === "QUERY_UPDATE" && message.payload?.key === key) {
              samples.push(performance.now() - sentAt);
              resolve();
            }
          });
        }),
    );
    writer.send({
      type: "CLIENT_OP",
      payload: { id: String(n), mapName: map, key, record: { value: { group: n % QUERIES_PER_SOCKET, n }, timestamp: { millis: Date.now(), counter: n, nodeId: "bench-writer" } } },
    });
    await Promise.all(arrivals);
  }
  for (const socket of [...subscribers, writer]) socket.close();
  return { liveQueries: SUBSCRIBER_SOCKETS * QUERIES_PER_SOCKET, writes: WRITES, writeToQueryUpdateMs: percentiles(samples) };
}

/** A new topic, `count` subscribers on it (client ids that hash to different homes) and a publisher's socket. */
async function openTopic(wsUrl: WsUrl, name: string, count: number) {
  const topic = `bench/${name}-${Date.now()}`;
  const subscribers = await Promise.all(
    Array.from({ length: count }, (_, i) => BenchSocket.open(wsUrl({ clientId: `bench-${name}-sub-${i}` }))),
  );
  for (const socket of subscribers) {
    socket.send({ type: "TOPIC_SUB", payload: { topic } });
    await barrier(socket);
  }
  const publisher = await BenchSocket.open(wsUrl({ clientId: `bench-${name}-pub` }));
  return { topic, subscribers, publisher };
}

/** Latency from TOPIC_PUB to each of 100 subscribers' TOPIC_MESSAGE (subscribers on different home partitions). */
export async function topicLatency(wsUrl: WsUrl) {
  const { topic, subscribers, publisher } = await openTopic(wsUrl, "topic", TOPIC_SUBSCRIBERS);
  publisher.onMessage(() => undefined);
  const samples: number[] = [];
  for (let n = 0; n < PUBLISHES; n++) {
    const sentAt = performance.now();
    const arrivals = subscribers.map(
      (socket) =>
        new Promise<void>((resolve) => {
          socket.onMessage((message) => {
            const data = message.payload?.data as { n?: number } | undefined;
            if (message.type === "TOPIC_MESSAGE" && data?.n === n) {
              samples.push(performance.now() - sentAt);
              resolve();
            }
          });
        }),
    );
    publisher.send({ type: "TOPIC_PUB", payload: { topic, data: { n } } });
    await Promise.all(arrivals);
  }
  for (const socket of [...subscribers, publisher]) socket.close();
  return { subscribers: TOPIC_SUBSCRIBERS, publishes: PUBLISHES, publishToReceiveMs: percentiles(samples) };
}

const STREAM_SUBSCRIBERS = 10;
const STREAM_PUBLISHES = 500;

/**
 * One publisher sends 500 TOPIC_PUBs without waiting (a stream of cursor positions, say) to 10 subscribers on other
 * homes: the messages per second until every subscriber has all of them, and how soon the publisher's connection
 * answered a PING sent right after them (its home handles a connection's frames in order).
 */
export async function topicStream(wsUrl: WsUrl) {
  const { topic, subscribers, publisher } = await openTopic(wsUrl, "stream", STREAM_SUBSCRIBERS);
  const started = performance.now();
  const received = subscribers.map(
    (socket) =>
      new Promise<void>((resolve) => {
        let count = 0;
        socket.onMessage((message) => {
          if (message.type === "TOPIC_MESSAGE" && ++count === STREAM_PUBLISHES) resolve();
        });
      }),
  );
  for (let n = 0; n < STREAM_PUBLISHES; n++) publisher.send({ type: "TOPIC_PUB", payload: { topic, data: { n } } });
  await barrier(publisher);
  const publisherFreeMs = performance.now() - started;
  await Promise.all(received);
  const seconds = (performance.now() - started) / 1000;
  for (const socket of [...subscribers, publisher]) socket.close();
  return {
    subscribers: STREAM_SUBSCRIBERS,
    publishes: STREAM_PUBLISHES,
    deliveredPerSecond: Math.round(STREAM_PUBLISHES / seconds),
    publisherFreeMs: Math.round(publisherFreeMs),
  };
}
