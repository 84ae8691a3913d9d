// The latency race as a picture: for each write, a dot for the local write and one for the server's
// acknowledgement, on a log scale (a local write takes ~0.1 ms, an acknowledgement tens of ms, an offline write
// seconds), joined by a line. Plain SVG, redrawn on each change.
import { svgElement } from "./element.ts";

/** The drawing's width follows the element's (up to 720 units), so text keeps its size on a phone. */
const MAX_WIDTH = 720;
const MIN_WIDTH = 300;
const HEIGHT = 150;
const LEFT = 56;
const RIGHT = 12;
const TOP = 10;
const BOTTOM = 26;
/** The scale: 0.1 ms (the browser timer's resolution) to 100 s. */
const MIN_MS = 0.1;
const MAX_MS = 100_000;
const TICKS_MS = [0.1, 1, 10, 100, 1_000, 10_000, 100_000];
const SHOWN_WRITES = 16;

interface ChartWrite {
  n: number;
  offline: boolean;
  localMs: number;
  ackMs: number | undefined;
}

export interface LatencyChart {
  element: SVGSVGElement;
  addWrite(n: number, localMs: number, offline: boolean): void;
  acknowledge(n: number, ackMs: number): void;
}

/** An empty chart; the caption and legend are the caller's. */
export function latencyChart(): LatencyChart {
  const writes: ChartWrite[] = [];
  const svg = svgElement("svg", { class: "latency-chart", role: "img", "data-testid": "race-chart" });
  const title = svgElement("title", {});
  const render = () => {
    const width = Math.round(Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, svg.clientWidth || MAX_WIDTH)));
    svg.setAttribute("viewBox", `0 0 ${width} ${HEIGHT}`);
    svg.replaceChildren(title, ...axis(width), ...writes.slice(-SHOWN_WRITES).flatMap((write, i) => marks(write, i, width)));
    const acked = writes.filter((write) => write.ackMs !== undefined).length;
    title.textContent = writes.length === 0
      ? "Latency chart: no writes yet"
      : `Latency chart of ${writes.length} writes: local writes under a millisecond; ${acked} acknowledged by the server`;
    svg.dataset.writes = String(writes.length);
  };
  render();
  new ResizeObserver(render).observe(svg);
  return {
    element: svg,
    addWrite(n, localMs, offline) {
      writes.push({ n, localMs, offline, ackMs: undefined });
      render();
    },
    acknowledge(n, ackMs) {
      const write = writes.find((one) => one.n === n);
      if (write === undefined) return;
      write.ackMs = ackMs;
      render();
    },
  };
}

/** The height of `ms` on the log scale. */
function yOf(ms: number): number {
  const clamped = Math.min(MAX_MS, Math.max(MIN_MS, ms));
  const share = (Math.log10(clamped) - Math.log10(MIN_MS)) / (Math.log10(MAX_MS) - Math.log10(MIN_MS));
  return TOP + (1 - share) * (HEIGHT - TOP - BOTTOM);
}

function xOf(slot: number, width: number): number {
  return LEFT + ((slot + 0.5) / SHOWN_WRITES) * (width - LEFT - RIGHT);
}

function axis(width: number): SVGElement[] {
  const lines = TICKS_MS.flatMap((ms) => [
    svgElement("line", { x1: LEFT, x2: width - RIGHT, y1: yOf(ms), y2: yOf(ms), class: "grid" }),
    svgText(LEFT - 6, yOf(ms) + 4, ms < 1000 ? `${ms} ms` : `${ms / 1000} s`, "tick"),
  ]);
  return [...lines, svgText(LEFT, HEIGHT - 6, "one column per write, newest on the right", "axis-note", "start")];
}

function marks(write: ChartWrite, slot: number, width: number): SVGElement[] {
  const x = xOf(slot, width);
  const parts: SVGElement[] = [];
  if (write.ackMs !== undefined) {
    parts.push(svgElement("line", { x1: x, x2: x, y1: yOf(write.localMs), y2: yOf(write.ackMs), class: write.offline ? "wait offline" : "wait" }));
    parts.push(svgElement("circle", { cx: x, cy: yOf(write.ackMs), r: 5, class: "ack" }));
  }
  parts.push(svgElement("circle", { cx: x, cy: yOf(write.localMs), r: 5, class: write.offline ? "local offline" : "local" }));
  return parts;
}

function svgText(x: number, y: number, text: string, className: string, anchor = "end"): SVGTextElement {
  const element = svgElement("text", { x, y, class: className, "text-anchor": anchor });
  element.textContent = text;
  return element;
}
