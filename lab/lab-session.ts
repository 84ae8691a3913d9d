import { randomHex } from "../core/random-hex.ts";

/** Where this page's data lives: the session in the URL and this tab's own slot of IndexedDB databases. */
export interface LabSession {
  id: string;
  /** The URL that opens this session on another device. */
  url: string;
  /** Prefix of this tab's IndexedDB databases. */
  databasePrefix: string;
}

const SESSION_ID = /^[a-z0-9-]{4,32}$/;
const TAB_KEY = "sync-lab:tab";

/**
 * Reads `?session=` (or starts a new session and puts it in the URL without a navigation). Each tab gets its own
 * databases, kept in sessionStorage so they survive a reload: two tabs of one browser are two devices, not one
 * device with two clients writing the same op log.
 */
export function resolveSession(location: Location, history: History): LabSession {
  const url = new URL(location.href);
  let id = url.searchParams.get("session") ?? "";
  if (!SESSION_ID.test(id)) {
    id = randomId(10);
    url.searchParams.set("session", id);
    history.replaceState(null, "", url);
  }
  let tab = sessionStorage.getItem(TAB_KEY);
  if (tab === null) {
    tab = randomId(6);
    sessionStorage.setItem(TAB_KEY, tab);
  }
  const shareUrl = new URL(url.pathname, url.origin);
  shareUrl.searchParams.set("session", id);
  return { id, url: shareUrl.toString(), databasePrefix: `sync-lab:${id}:${tab}` };
}

/** The server's WebSocket endpoint: the origin that served this page. */
export function serverUrlOf(location: Location): string {
  return new URL("/ws", location.origin.replace(/^http/, "ws")).toString();
}

/** Lowercase hex ids that work on plain-http pages too (a LAN address). */
export const randomId = randomHex;
