// The sync itself, drawn: one lane per client on the page, and on it each write (a dot), the server's
// acknowledgement (a tick) and each change that arrived from another device (a diamond), over the last 30 s.
import { el, svgElement } from "./element.ts";
import { TIMELINE_WINDOW_MS, type SyncEvent, type SyncEventLog } from "./sync-events.ts";

/** The drawing's width follows the element's (up to 720 units), so text keeps its size on a phone. */
const MAX_WIDTH = 720;
const MIN_WIDTH = 300;
const LANE_HEIGHT = 34;
const LEFT = 92;
const RIGHT = 10;
const AXIS_HEIGHT = 22;
const REDRAW_EVERY_MS = 500;

const KIND_WORDS: Record<SyncEvent["kind"], string> = { write: "writes", ack: "confirmations", receive: "changes received" };

/** The timeline and a line naming the latest event; redraws as events come and time passes. */
export function syncTimeline(log: SyncEventLog): HTMLElement {
  const svg = svgElement("svg", { class: "timeline", role: "img", "data-testid": "timeline" });
  const title = svgElement("title", {});
  const latest = el("p", { class: "latest", "data-testid": "timeline-latest" });
  let scheduled = false;
  const draw = () => {
    scheduled = false;
    const now = log.now();
    const events = log.recent();
    const lanes = log.devices;
    const height = lanes.length * LANE_HEIGHT + AXIS_HEIGHT;
    const width = Math.round(Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, svg.clientWidth || MAX_WIDTH)));
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.replaceChildren(
      title,
      ...laneMarks(lanes, width),
      ...timeAxis(lanes.length * LANE_HEIGHT, width),
      ...events.flatMap((event) => eventMark(event, { lanes, now, width })),
    );
    title.textContent = summary(events);
    svg.dataset.events = String(events.length);
    const last = events.at(-1);
    latest.textContent = last === undefined
      ? "Nothing has happened yet: write something on any device and watch it travel."
      : `Latest: ${last.text}.`;
  };
  const redraw = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(draw);
  };
  log.onChange(redraw);
  new ResizeObserver(redraw).observe(svg);
  // The window slides with time; a hidden page skips the work.
  setInterval(() => {
    if (document.visibilityState === "visible") redraw();
  }, REDRAW_EVERY_MS);
  draw();
  return el("figure", { class: "timeline-figure" }, [
    svg,
    el("figcaption", {}, [
      el("span", { class: "key write" }, ["write on the device"]),
      el("span", { class: "key ack" }, ["confirmed by the server"]),
      el("span", { class: "key receive" }, ["change from another device"]),
      " · last 30 seconds, now on the right",
    ]),
    latest,
  ]);
}

function summary(events: readonly SyncEvent[]): string {
  if (events.length === 0) return "Sync timeline: nothing in the last 30 seconds";
  const counts = (["write", "ack", "receive"] as const).map((kind) => `${events.filter((event) => event.kind === kind).length} ${KIND_WORDS[kind]}`);
  return `Sync timeline of the last 30 seconds: ${counts.join(", ")}`;
}

function laneMarks(lanes: readonly string[], width: number): SVGElement[] {
  return lanes.flatMap((lane, i) => {
    const y = laneY(i);
    const label = svgElement("text", { x: LEFT - 8, y: y + 4, "text-anchor": "end", class: "lane-label" });
    label.textContent = lane;
    return [svgElement("line", { x1: LEFT, x2: width - RIGHT, y1: y, y2: y, class: "lane" }), label];
  });
}

function timeAxis(y: number, width: number): SVGElement[] {
  return [0, 10, 20, 30].flatMap((secondsAgo) => {
    const x = xOf(-secondsAgo * 1000, width);
    const text = svgElement("text", { x, y: y + 16, "text-anchor": secondsAgo === 0 ? "end" : "middle", class: "tick" });
    text.textContent = secondsAgo === 0 ? "now" : `${secondsAgo} s ago`;
    return [text];
  });
}

/** A write sits on its lane, the server's tick just above it, a received change on the lane as a diamond. */
function eventMark(event: SyncEvent, { lanes, now, width }: { lanes: readonly string[]; now: number; width: number }): SVGElement[] {
  const lane = lanes.indexOf(event.device);
  if (lane < 0) return [];
  const x = xOf(event.atMs - now, width);
  const y = laneY(lane);
  const hint = svgElement("title", {});
  hint.textContent = event.text;
  let mark: SVGElement;
  if (event.kind === "write") mark = svgElement("circle", { cx: x, cy: y, r: 6, class: "write" });
  else if (event.kind === "ack") mark = svgElement("path", { d: `M${x - 6} ${y - 11} l4 5 l8 -10`, class: "ack" });
  else mark = svgElement("rect", { x: x - 5, y: y - 5, width: 10, height: 10, transform: `rotate(45 ${x} ${y})`, class: "receive" });
  mark.append(hint);
  return [mark];
}

function laneY(lane: number): number {
  return lane * LANE_HEIGHT + LANE_HEIGHT / 2;
}

/** x of an event `agoMs` (≤ 0) from now. */
function xOf(agoMs: number, width: number): number {
  return width - RIGHT - (-agoMs / TIMELINE_WINDOW_MS) * (width - LEFT - RIGHT);
}
