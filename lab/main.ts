// The Sync Lab page: real-time CRDT sync between simulated devices, on the server that served the page.
import { readToken, tokenForm } from "./auth-token.ts";
import { mountConflictArena } from "./conflict-arena.ts";
import { deviceStatusView } from "./device-status-view.ts";
import { byId } from "./element.ts";
import { shortNodeId } from "./hlc-format.ts";
import { LabDevice } from "./lab-device.ts";
import { resolveSession, serverUrlOf } from "./lab-session.ts";
import { mountLatencyRace } from "./latency-race.ts";
import { mountSharedSession } from "./shared-session.ts";
import { SyncEventLog } from "./sync-events.ts";
import { syncTimeline } from "./sync-timeline.ts";

async function main(): Promise<void> {
  const session = resolveSession(location, history);
  const token = readToken(location, history);
  const serverUrl = serverUrlOf(location);
  byId("session-id", HTMLElement).textContent = session.id;

  const events = new SyncEventLog();
  byId("timeline-body", HTMLElement).append(syncTimeline(events));
  const device = new LabDevice({ label: "this device", databaseName: `${session.databasePrefix}:main`, serverUrl, token, events });
  await device.start();
  // The name other devices in the session see ("Here now", the list's authors).
  const name = `${/Mobi|Android/i.test(navigator.userAgent) ? "Phone" : "Browser"} ${shortNodeId(device.client.nodeId)}`;
  byId("this-device-name", HTMLElement).textContent = name;
  byId("device-status", HTMLElement).append(deviceStatusView(device, "main"));
  const stopWatchingAuth = device.client.onConnectionStateChange((state) => {
    if (state !== "AUTH_FAILED") return;
    byId("device-status", HTMLElement).append(tokenForm());
    stopWatchingAuth();
  });

  const maps = (suffix: string) => `lab:${session.id}:${suffix}`;
  mountLatencyRace(byId("race-body", HTMLElement), device, maps("race"));
  await mountSharedSession(byId("session-body", HTMLElement), device, {
    sessionUrl: session.url,
    listMap: maps("list"),
    presenceTopic: `lab.${session.id}.presence`,
    deviceName: name,
  });
  await mountConflictArena(byId("arena-body", HTMLElement), {
    databasePrefix: session.databasePrefix,
    fieldsMap: maps("arena"),
    tagsMap: maps("arena-tags"),
    serverUrl,
    token,
    events,
  });
  document.body.dataset.ready = "true";
}

main().catch((err: unknown) => {
  console.error("[sync-lab]", err);
  const banner = document.getElementById("fatal");
  if (banner !== null) {
    banner.hidden = false;
    banner.textContent = `The lab could not start: ${err instanceof Error ? err.message : String(err)}`;
  }
});
