import type { LWWMapHandle, ORMapHandle } from "../client/index.ts";
import { compareTimestamps } from "../core/hlc.ts";
import { deviceStatusView } from "./device-status-view.ts";
import { el } from "./element.ts";
import { formatTimestamp, shortNodeId } from "./hlc-format.ts";
import type { LabDevice } from "./lab-device.ts";

/** The LWW fields every arena device edits. */
export const ARENA_FIELDS = ["title", "color"] as const;
export const ARENA_COLORS = ["teal", "amber", "violet", "rose"] as const;
/** The OR-Map key that holds the shared tag list. */
export const TAGS_KEY = "tags";

/** The maps of one arena device. */
export interface ArenaMaps {
  fields: LWWMapHandle<string>;
  tags: ORMapHandle<string>;
}

/** One device card: its status, edit forms, and each value with the HLC that won it. */
export function arenaDeviceView(device: LabDevice, maps: ArenaMaps, slug: string): HTMLElement {
  const values = el("dl", { class: "values", "data-testid": `${slug}-values` });
  const tagList = el("ul", { class: "tags", "data-testid": `${slug}-tags` });
  const render = () => {
    values.replaceChildren(...ARENA_FIELDS.flatMap((field) => fieldRows(maps.fields, field, slug)));
    // Oldest add first, so every device lists the tags in one order whatever order they arrived in.
    const records = maps.tags.crdt.getRecords(TAGS_KEY).toSorted((a, b) => compareTimestamps(a.timestamp, b.timestamp));
    tagList.replaceChildren(...records.map((record) =>
      el("li", {}, [
        el("span", { class: "tag" }, [record.value]),
        el("code", { class: "hlc" }, [formatTimestamp(record.timestamp)]),
        el("button", { type: "button", class: "small", "aria-label": `Remove tag ${record.value} on ${device.label}`, onclick: () => {
          maps.tags.remove(TAGS_KEY, record.value);
          void device.afterWrite();
        } }, ["×"]),
      ]),
    ));
  };
  maps.fields.onChange(render);
  maps.tags.onChange(render);
  render();

  return el("article", { class: "device", "data-testid": slug, "aria-labelledby": `${slug}-heading` }, [
    el("h3", { id: `${slug}-heading` }, [device.label, " ", el("small", {}, [shortNodeId(device.client.nodeId)])]),
    deviceStatusView(device, slug),
    titleForm(device, maps, slug),
    colorForm(device, maps, slug),
    tagForm(device, maps, slug),
    values,
    el("h4", {}, ["Tags (OR-Map: concurrent adds all survive)"]),
    tagList,
  ]);
}

function fieldRows(map: LWWMapHandle<string>, field: string, slug: string): HTMLElement[] {
  const record = map.crdt.getRecord(field);
  const value = record?.value ?? "—";
  return [
    el("dt", {}, [field]),
    el("dd", { "data-testid": `${slug}-${field}` }, [
      el("span", { class: "value", "data-testid": `${slug}-${field}-value` }, [value]),
      record ? el("code", { class: "hlc", "data-testid": `${slug}-${field}-hlc` }, [formatTimestamp(record.timestamp)]) : "",
    ]),
  ];
}

function titleForm(device: LabDevice, maps: ArenaMaps, slug: string): HTMLFormElement {
  const input = el("input", { id: `${slug}-title-input`, name: "title", required: true, maxlength: "60", autocomplete: "off" });
  return inlineForm(`${slug}-title-input`, "Title", input, "Set title", () => {
    maps.fields.set("title", input.value);
    input.value = "";
    void device.afterWrite();
  });
}

function colorForm(device: LabDevice, maps: ArenaMaps, slug: string): HTMLFormElement {
  const select = el("select", { id: `${slug}-color-input`, name: "color" }, ARENA_COLORS.map((color) => el("option", { value: color }, [color])));
  return inlineForm(`${slug}-color-input`, "Color", select, "Set color", () => {
    maps.fields.set("color", select.value);
    void device.afterWrite();
  });
}

function tagForm(device: LabDevice, maps: ArenaMaps, slug: string): HTMLFormElement {
  const input = el("input", { id: `${slug}-tag-input`, name: "tag", required: true, maxlength: "30", autocomplete: "off" });
  return inlineForm(`${slug}-tag-input`, "Tag", input, "Add tag", () => {
    maps.tags.add(TAGS_KEY, input.value);
    input.value = "";
    void device.afterWrite();
  });
}

function inlineForm(inputId: string, label: string, control: HTMLElement, action: string, submit: () => void): HTMLFormElement {
  return el("form", { class: "inline", onsubmit: (event) => {
    event.preventDefault();
    submit();
  } }, [el("label", { for: inputId }, [label]), control, el("button", { type: "submit" }, [action])]);
}
