import { el } from "./element.ts";
import { ARENA_FIELDS, TAGS_KEY, arenaDeviceView, type ArenaMaps } from "./arena-device-view.ts";
import { LabDevice } from "./lab-device.ts";
import { pendingText } from "./status-text.ts";
import type { SyncEventLog } from "./sync-events.ts";

export interface ConflictArenaOptions {
  /** Prefix of the arena devices' IndexedDB names (one database per device). */
  databasePrefix: string;
  fieldsMap: string;
  tagsMap: string;
  serverUrl: string;
  token: string | undefined;
  events: SyncEventLog;
}

interface ArenaDevice {
  device: LabDevice;
  maps: ArenaMaps;
}

const DEVICE_LETTERS = ["A", "B", "C", "D"] as const;
const DEVICE_COUNT_KEY = "sync-lab:arena-devices";

/**
 * Conflict Arena: several devices on one page, each with its own client and database. Take one offline, edit
 * on both, reconnect, and every card ends with the same winners (LWW by HLC) and the union of the tag adds.
 */
export async function mountConflictArena(container: HTMLElement, options: ConflictArenaOptions): Promise<void> {
  const devices: ArenaDevice[] = [];
  const grid = el("div", { class: "devices" });
  const verdict = el("p", { class: "verdict", role: "status", "aria-live": "polite", "data-testid": "arena-verdict" });
  const addButton = el("button", { type: "button", "data-testid": "arena-add-device" }, ["Add a device"]);

  const refresh = () => {
    const { kind, text } = verdictOf(devices);
    verdict.dataset.verdict = kind;
    verdict.dataset.converged = String(kind === "agree");
    verdict.textContent = text;
    addButton.disabled = devices.length >= DEVICE_LETTERS.length;
  };

  const addDevice = async () => {
    const letter = DEVICE_LETTERS[devices.length];
    if (letter === undefined) return;
    const arenaDevice = await startArenaDevice(letter, options);
    devices.push(arenaDevice);
    sessionStorage.setItem(DEVICE_COUNT_KEY, String(devices.length));
    const { device, maps } = arenaDevice;
    device.onStatusChange(refresh);
    maps.fields.onChange(refresh);
    maps.tags.onChange(refresh);
    grid.append(arenaDeviceView(device, maps, `device-${letter.toLowerCase()}`));
    refresh();
  };
  addButton.addEventListener("click", () => void addDevice());

  const scenario = el("button", { type: "button", "data-testid": "arena-scenario", onclick: () => void playConflict(devices) }, [
    "Stage a conflict",
  ]);
  container.append(
    el("p", {}, [
      "Devices A and B are two more clients on this page, each with its own connection and IndexedDB database, as if on two phones. ",
      "“Stage a conflict” takes Device B offline and makes clashing edits on A and B; press “Go online” on Device B and watch them merge. ",
      "A field keeps the write with the later hybrid logical clock (hover a time to see it); tags are an OR-Map, so tags added apart all survive.",
    ]),
    el("div", { class: "actions" }, [scenario, addButton]),
    verdict,
    grid,
  );
  const wanted = Math.max(2, Number(sessionStorage.getItem(DEVICE_COUNT_KEY)) || 2);
  for (let i = 0; i < wanted; i++) await addDevice();
}

/** Starts device `letter` from its own database and opens the arena maps on it. */
async function startArenaDevice(letter: string, options: ConflictArenaOptions): Promise<ArenaDevice> {
  const device = new LabDevice({
    label: `Device ${letter}`,
    databaseName: `${options.databasePrefix}:arena-${letter.toLowerCase()}`,
    serverUrl: options.serverUrl,
    token: options.token,
    events: options.events,
  });
  await device.start();
  const maps: ArenaMaps = { fields: device.client.getMap<string>(options.fieldsMap), tags: device.client.getORMap<string>(options.tagsMap) };
  device.watchMap(maps.fields);
  device.watchORMap(maps.tags, TAGS_KEY);
  await Promise.all([maps.fields.ready, maps.tags.ready]);
  return { device, maps };
}

/** Disconnects B, then writes conflicting fields and tags on A and B (B stays offline until the user reconnects it). */
async function playConflict(devices: readonly ArenaDevice[]): Promise<void> {
  const [a, b] = devices;
  if (a === undefined || b === undefined) return;
  b.device.network.setOnline(false);
  a.maps.fields.set("title", "Plan from A");
  a.maps.fields.set("color", "teal");
  a.maps.tags.add(TAGS_KEY, "from-a");
  b.maps.fields.set("title", "Plan from B");
  b.maps.fields.set("color", "amber");
  b.maps.tags.add(TAGS_KEY, "from-b");
  await Promise.all([a.device.afterWrite("wrote title, color and a tag"), b.device.afterWrite("wrote title, color and a tag, offline")]);
}

type VerdictKind = "starting" | "empty" | "waiting" | "syncing" | "agree";

/**
 * What the arena can say about its devices. No verdict before anything was written: agreeing on nothing is not
 * news. Then devices that are offline or hold unconfirmed writes are named, and only settled devices that hold
 * the same winners and tags agree.
 */
function verdictOf(devices: readonly ArenaDevice[]): { kind: VerdictKind; text: string } {
  if (devices.length < 2) return { kind: "starting", text: "Starting the devices…" };
  const waiting = devices.filter(({ device }) => !device.status.online || device.status.pendingOps > 0);
  if (waiting.length > 0) {
    const why = waiting.map(({ device }) => {
      const status = device.status;
      return `${device.label} is ${status.online ? "online" : "offline"}, ${pendingText(status.pendingOps)}`;
    });
    return { kind: "waiting", text: `Not merged yet: ${why.join("; ")}.` };
  }
  if (devices.some(({ device }) => device.status.state !== "CONNECTED")) return { kind: "starting", text: "Connecting the devices…" };
  const snapshots = devices.map(({ maps }) => snapshot(maps));
  if (snapshots.every((one) => one === EMPTY_SNAPSHOT)) {
    return { kind: "empty", text: "Nothing to compare yet: set a title, a color or a tag on any device, or stage a conflict." };
  }
  if (snapshots.some((one) => one !== snapshots[0])) {
    return { kind: "syncing", text: "Syncing: not every device has heard every change yet." };
  }
  return { kind: "agree", text: "All devices agree: the same winning title and color, the same tags." };
}

const EMPTY_SNAPSHOT = JSON.stringify({ fields: ARENA_FIELDS.map(() => null), tags: [] });

function snapshot(maps: ArenaMaps | undefined): string {
  if (maps === undefined) return "";
  const fields = ARENA_FIELDS.map((field) => maps.fields.crdt.getRecord(field) ?? null);
  const tags = maps.tags.crdt.getRecords(TAGS_KEY).map((record) => record.tag).sort();
  return JSON.stringify({ fields, tags });
}
