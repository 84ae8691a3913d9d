import { el } from "./element.ts";
import { ARENA_FIELDS, TAGS_KEY, arenaDeviceView, type ArenaMaps } from "./arena-device-view.ts";
import { LabDevice } from "./lab-device.ts";

export interface ConflictArenaOptions {
  /** Prefix of the arena devices' IndexedDB names (one database per device). */
  databasePrefix: string;
  fieldsMap: string;
  tagsMap: string;
  serverUrl: string;
  token: string | undefined;
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
    const converged = isConverged(devices);
    verdict.dataset.converged = String(converged);
    verdict.textContent = converged
      ? "All devices agree: same winners, same tags."
      : "Devices differ: edits are waiting to sync or merge.";
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
      "Each card is a separate client with its own IndexedDB database. ",
      "“Stage a conflict” takes Device B offline and makes clashing edits on A and B; press “Go online” on B and watch them merge. ",
      "Fields are last-writer-wins by hybrid logical clock (shown beside each value); tags are an OR-Map, so adds made apart all survive.",
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
  });
  await device.start();
  const maps: ArenaMaps = { fields: device.client.getMap<string>(options.fieldsMap), tags: device.client.getORMap<string>(options.tagsMap) };
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
  await Promise.all([a.device.afterWrite(), b.device.afterWrite()]);
}

/** True when every device is connected with nothing pending and holds the same records and tags. */
function isConverged(devices: readonly ArenaDevice[]): boolean {
  if (devices.length < 2) return false;
  const settled = devices.every(({ device }) => device.status.online && device.status.state === "CONNECTED" && device.status.pendingOps === 0);
  if (!settled) return false;
  const first = snapshot(devices[0]?.maps);
  return devices.every(({ maps }) => snapshot(maps) === first);
}

function snapshot(maps: ArenaMaps | undefined): string {
  if (maps === undefined) return "";
  const fields = ARENA_FIELDS.map((field) => maps.fields.crdt.getRecord(field) ?? null);
  const tags = maps.tags.crdt.getRecords(TAGS_KEY).map((record) => record.tag).sort();
  return JSON.stringify({ fields, tags });
}
