import QRCode from "qrcode";
import type { LWWMapHandle } from "../client/index.ts";
import { el } from "./element.ts";
import type { LabDevice } from "./lab-device.ts";
import { randomId } from "./lab-session.ts";
import { PRESENCE_INTERVAL_MS, Presence, type Peer } from "./presence.ts";

/** One entry of the shared list. */
export interface ListItem {
  text: string;
  author: string;
  createdAt: number;
}

export interface SharedSessionOptions {
  sessionUrl: string;
  listMap: string;
  presenceTopic: string;
  deviceName: string;
}

/**
 * Shared sessions: a link and QR code that open this session elsewhere, who is here (a topic), and a list
 * (an LWW map, one key per item) that every device edits and sees live.
 */
export async function mountSharedSession(container: HTMLElement, device: LabDevice, options: SharedSessionOptions): Promise<void> {
  const list: LWWMapHandle<ListItem> = device.client.getMap<ListItem>(options.listMap);
  await list.ready;
  const presence = new Presence(device.client.getTopic(options.presenceTopic), { id: device.client.nodeId, name: options.deviceName });

  const peopleList = el("ul", { class: "people", "data-testid": "presence" });
  presence.onChange((peers) => renderPeers(peopleList, peers));
  renderPeers(peopleList, presence.peers());
  presence.announce();
  setInterval(() => presence.heartbeat(), PRESENCE_INTERVAL_MS);
  device.client.onConnectionStateChange((state) => {
    if (state === "CONNECTED") presence.announce();
  });
  addEventListener("pagehide", () => presence.leave());

  const items = el("ul", { class: "shared-list", "data-testid": "shared-list", "aria-live": "polite" });
  const empty = el("p", { class: "hint", "data-testid": "shared-list-empty" }, [
    "The list is empty. Add an item: it appears at once on every device in this session, and waits here while you are offline.",
  ]);
  device.watchMap(list);
  list.subscribe((entries) => {
    empty.hidden = entries.length > 0;
    renderItems(items, entries, { list, device, selfName: options.deviceName });
  });

  container.append(
    el("h3", {}, ["Shared list"]),
    itemForm(list, device, options.deviceName),
    empty,
    items,
    el("h3", {}, ["Here now"]),
    peopleList,
    el("h3", {}, ["Invite"]),
    el("div", { class: "share" }, [await qrCode(options.sessionUrl), linkBlock(options.sessionUrl)]),
  );
}

async function qrCode(url: string): Promise<HTMLElement> {
  const svg = await QRCode.toString(url, { type: "svg", margin: 1, errorCorrectionLevel: "M" });
  const figure = el("figure", { class: "qr" });
  // The SVG is generated locally by qrcode from our own URL; it holds no user input but the session id.
  figure.innerHTML = svg;
  figure.querySelector("svg")?.setAttribute("role", "img");
  figure.querySelector("svg")?.setAttribute("aria-label", "QR code of the session link");
  figure.append(el("figcaption", {}, ["Scan with a phone to join"]));
  return figure;
}

function linkBlock(url: string): HTMLElement {
  const input = el("input", { id: "session-link", readonly: true, value: url, "data-testid": "session-link" });
  const copy = el("button", { type: "button", onclick: () => {
    void navigator.clipboard?.writeText(url).then(() => (copy.textContent = "Copied"));
  } }, ["Copy link"]);
  return el("div", { class: "link" }, [
    el("label", { for: "session-link" }, ["Session link: open it on another device or in another tab to join"]),
    el("div", { class: "inline" }, [input, copy]),
    el("p", {}, [el("a", { href: url, target: "_blank", rel: "noopener" }, ["Open this session in a new tab"])]),
  ]);
}

function itemForm(list: LWWMapHandle<ListItem>, device: LabDevice, author: string): HTMLFormElement {
  const input = el("input", { id: "list-input", required: true, maxlength: "80", autocomplete: "off", "data-testid": "list-input" });
  return el("form", { class: "inline", onsubmit: (event) => {
    event.preventDefault();
    const createdAt = Date.now();
    list.set(`${createdAt.toString(36)}-${randomId(8)}`, { text: input.value, author, createdAt });
    void device.afterWrite(`added “${input.value}” to the list`);
    input.value = "";
  } }, [el("label", { for: "list-input" }, ["New item"]), input, el("button", { type: "submit", "data-testid": "list-add" }, ["Add"])]);
}

function renderPeers(target: HTMLElement, peers: Peer[]): void {
  target.replaceChildren(...peers.map((peer, index) => el("li", {}, [peer.name, index === 0 ? " (this device)" : ""])));
}

function renderItems(
  target: HTMLElement,
  entries: [string, ListItem][],
  { list, device, selfName }: { list: LWWMapHandle<ListItem>; device: LabDevice; selfName: string },
): void {
  const sorted = entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  target.replaceChildren(...sorted.map(([key, item]) =>
    el("li", {}, [
      el("span", { class: "item-text" }, [item.text]),
      el("small", {}, [`by ${item.author === selfName ? `${item.author} (this device)` : item.author}`]),
      el("button", { type: "button", class: "small", "aria-label": `Remove ${item.text}`, onclick: () => {
        list.remove(key);
        void device.afterWrite(`removed “${item.text}” from the list`);
      } }, ["×"]),
    ]),
  ));
}
