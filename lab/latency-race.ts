import type { ClientOp, LWWMapHandle, Timestamp } from "../client/index.ts";
import { el } from "./element.ts";
import type { LabDevice } from "./lab-device.ts";

interface RaceWrite {
  n: number;
  network: "online" | "offline";
  writtenAt: number;
}

interface RaceRow {
  row: HTMLTableRowElement;
  ackCell: HTMLTableCellElement;
  startedAt: number;
}

/**
 * Latency Race: each write shows how long `set()` took locally (memory + queued for IndexedDB: no network in
 * the way, online or not) and how long until the server's OP_ACK covered it.
 */
export function mountLatencyRace(container: HTMLElement, device: LabDevice, mapName: string): void {
  const map: LWWMapHandle<RaceWrite> = device.client.getMap<RaceWrite>(mapName);
  const waiting = new Map<string, RaceRow>();
  const body = el("tbody");
  let count = 0;

  device.client.onOpsAcknowledged((ops) => {
    const now = performance.now();
    for (const op of ops) {
      const race = waiting.get(opIdentity(op));
      if (race === undefined) continue;
      waiting.delete(opIdentity(op));
      race.ackCell.textContent = `${(now - race.startedAt).toFixed(1)} ms`;
      race.row.dataset.acknowledged = "true";
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
      el("td", { "data-testid": "local-latency" }, [`${localMs.toFixed(3)} ms`]),
      ackCell,
    ]);
    body.prepend(row);
    waiting.set(recordIdentity(mapName, key, record.timestamp), { row, ackCell, startedAt });
    void device.afterWrite();
  };

  container.append(
    el("p", {}, [
      "Every write lands in memory at once and in IndexedDB in the same event-loop turn; the server's acknowledgement comes later. ",
      "Write online, then take this device offline and write again: the local time stays the same ",
      "(browsers round timings to 0.1 ms).",
    ]),
    el("div", { class: "actions" }, [el("button", { type: "button", "data-testid": "race-write", onclick: write }, ["Write now"])]),
    raceTable(body),
  );
}

function raceTable(body: HTMLTableSectionElement): HTMLElement {
  const headings = ["#", "network", "local write", "acknowledged after"].map((text) => el("th", { scope: "col" }, [text]));
  return el("div", { class: "table-wrap" }, [
    el("table", { "aria-label": "Writes and their latencies" }, [el("thead", {}, [el("tr", {}, headings)]), body]),
  ]);
}

function opIdentity(op: ClientOp): string {
  return op.record ? recordIdentity(op.mapName, op.key, op.record.timestamp) : "";
}

function recordIdentity(mapName: string, key: string, timestamp: Timestamp): string {
  return `${mapName}\u0000${key}\u0000${timestamp.millis}:${timestamp.counter}`;
}
