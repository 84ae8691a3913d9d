import type { ClientOp, LWWMapHandle, Timestamp } from "../client/index.ts";
import { el } from "./element.ts";
import type { LabDevice } from "./lab-device.ts";
import { latencyChart } from "./latency-chart.ts";
import { durationText } from "./status-text.ts";

interface RaceWrite {
  n: number;
  network: "online" | "offline";
  writtenAt: number;
}

interface RaceRow {
  n: number;
  row: HTMLTableRowElement;
  ackCell: HTMLTableCellElement;
  startedAt: number;
}

/** Rows kept in the table; the chart shows the last 20 writes. */
const TABLE_ROWS = 8;

/**
 * Latency Race: each write of this device shows how long `set()` took locally (memory + queued for IndexedDB:
 * no network in the way, online or not) and how long until the server's OP_ACK covered it, as a chart and a table.
 */
export function mountLatencyRace(container: HTMLElement, device: LabDevice, mapName: string): void {
  const map: LWWMapHandle<RaceWrite> = device.client.getMap<RaceWrite>(mapName);
  const waiting = new Map<string, RaceRow>();
  const body = el("tbody");
  const empty = el("tr", { class: "empty" }, [
    el("td", { colspan: "4" }, ["No writes yet: press “Write now”, then go offline and write again."]),
  ]);
  body.append(empty);
  const chart = latencyChart();
  let count = 0;

  device.client.onOpsAcknowledged((ops) => {
    const now = performance.now();
    for (const op of ops) {
      const race = waiting.get(opIdentity(op));
      if (race === undefined) continue;
      waiting.delete(opIdentity(op));
      race.ackCell.textContent = durationText(now - race.startedAt);
      race.row.dataset.acknowledged = "true";
      chart.acknowledge(race.n, now - race.startedAt);
    }
  });

  const write = () => {
    count++;
    const network = device.status.online && device.status.state === "CONNECTED" ? "online" : "offline";
    const key = `${device.client.nodeId}-${Date.now().toString(36)}-${count}`;
    const startedAt = performance.now();
    const record = map.set(key, { n: count, network, writtenAt: Date.now() });
    const localMs = performance.now() - startedAt;
    const ackCell = el("td", {}, [network === "online" ? "waiting for the server…" : "queued until online…"]);
    const row = el("tr", { "data-network": network, "data-acknowledged": "false" }, [
      el("td", {}, [String(count)]),
      el("td", {}, [network]),
      el("td", { "data-testid": "local-latency" }, [durationText(localMs)]),
      ackCell,
    ]);
    empty.remove();
    body.prepend(row);
    while (body.rows.length > TABLE_ROWS) body.lastElementChild?.remove();
    chart.addWrite(count, localMs, network === "offline");
    waiting.set(recordIdentity(mapName, key, record.timestamp), { n: count, row, ackCell, startedAt });
    void device.afterWrite(`wrote race entry ${count}`);
  };

  container.append(
    el("p", {}, [
      "A write on this device lands in memory at once and in IndexedDB in the same event-loop turn; the server confirms it later. ",
      "Write online, then go offline and write again: the local time stays under a millisecond, and the offline write is confirmed when you go back online.",
    ]),
    el("div", { class: "actions" }, [
      el("button", { type: "button", "data-testid": "race-write", onclick: write }, ["Write now"]),
    ]),
    el("figure", { class: "chart" }, [
      chart.element,
      el("figcaption", {}, [
        el("span", { class: "key local" }, ["local write"]),
        el("span", { class: "key ack" }, ["confirmed by the server"]),
        el("span", { class: "key offline" }, ["written offline"]),
        " · times rounded to the browser's 0.1 ms timer",
      ]),
    ]),
    raceTable(body),
  );
}

function raceTable(body: HTMLTableSectionElement): HTMLElement {
  const headings = ["#", "network", "local write", "confirmed after"].map((text) => el("th", { scope: "col" }, [text]));
  return el("div", { class: "table-wrap" }, [
    el("table", { "aria-label": "Writes of this device and their latencies" }, [el("thead", {}, [el("tr", {}, headings)]), body]),
  ]);
}

function opIdentity(op: ClientOp): string {
  return op.record ? recordIdentity(op.mapName, op.key, op.record.timestamp) : "";
}

function recordIdentity(mapName: string, key: string, timestamp: Timestamp): string {
  return `${mapName}\u0000${key}\u0000${timestamp.millis}:${timestamp.counter}`;
}
