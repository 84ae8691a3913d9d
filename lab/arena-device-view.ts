import type { LWWMapHandle, ORMapHandle } from "../client/index.ts";
import { compareTimestamps } from "../core/hlc.ts";
import { deviceName } from "./device-names.ts";
import { deviceStatusView } from "./device-status-view.ts";
import { el } from "./element.ts";
import { clockTitle, shortNodeId, writtenText } from "./hlc-format.ts";
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

/** One device card: its status, edit forms, and each value with the device and clock that won it. */
export function arenaDeviceView(device: LabDevice, maps: ArenaMaps, slug: string): HTMLElement {
  const values = el("dl", { class: "values", "data-testid": `${slug}-values` });
  const tagList = el("ul", { class: "tags", "data-testid": `${slug}-tags` });
  const noTags = el("p", { class: "hint", "data-testid": `${slug}-tags-empty` }, [
    "No tags yet. Add one here or on another device: tags added on different devices all survive the merge.",
  ]);
  const color = colorSelect(device, maps, slug);
  const render = () => {
    values.replaceChildren(...ARENA_FIELDS.flatMap((field) => fieldRows(maps.fields, field, slug)));
    color.value = maps.fields.get("color") ?? "";
    // Oldest add first, so every device lists the tags in one order whatever order they arrived in.
    const records = maps.tags.crdt.getRecords(TAGS_KEY).toSorted((a, b) => compareTimestamps(a.timestamp, b.timestamp));
    noTags.hidden = records.length > 0;
    tagList.replaceChildren(...records.map((record) =>
      el("li", {}, [
        el("span", { class: "tag" }, [record.value]),
        el("small", { class: "hlc", title: clockTitle(record.timestamp) }, [`by ${deviceName(record.timestamp.nodeId)}`]),
        el("button", { type: "button", class: "small", "aria-label": `Remove tag ${record.value} (${device.label})`, onclick: () => {
          maps.tags.remove(TAGS_KEY, record.value);
          void device.afterWrite(`removed the tag ${record.value}`);
        } }, ["×"]),
      ]),
    ));
  };
  maps.fields.onChange(render);
  maps.tags.onChange(render);
  render();

  return el("article", { class: "device", "data-testid": slug, "aria-labelledby": `${slug}-heading` }, [
    el("h3", { id: `${slug}-heading` }, [device.label, " ", el("small", { title: `node id ${device.client.nodeId}` }, [shortNodeId(device.client.nodeId)])]),
    deviceStatusView(device, slug),
    el("div", { class: "edits" }, [titleForm(device, maps, slug), colorRow(color, slug), tagForm(device, maps, slug)]),
    el("h4", {}, ["What this device holds"]),
    values,
    el("h4", {}, ["Tags"]),
    noTags,
    tagList,
  ]);
}

function fieldRows(map: LWWMapHandle<string>, field: string, slug: string): HTMLElement[] {
  const record = map.crdt.getRecord(field);
  const value = record?.value ?? undefined;
  return [
    el("dt", {}, [field]),
    el("dd", { "data-testid": `${slug}-${field}` }, [
      el("span", { class: value === undefined ? "value unset" : "value", "data-testid": `${slug}-${field}-value` }, [value ?? "not set"]),
      record && value !== undefined
        ? el("small", { class: "hlc", "data-testid": `${slug}-${field}-hlc`, title: clockTitle(record.timestamp) }, [
            writtenText(record.timestamp, deviceName(record.timestamp.nodeId)),
          ])
        : "",
    ]),
  ];
}

function titleForm(device: LabDevice, maps: ArenaMaps, slug: string): HTMLFormElement {
  const input = el("input", { id: `${slug}-title-input`, name: "title", required: true, maxlength: "60", autocomplete: "off", placeholder: "a new title" });
  return editRow(device, `${slug}-title-input`, "Title", input, "Set", () => {
    maps.fields.set("title", input.value);
    void device.afterWrite(`set the title to ${input.value}`);
    input.value = "";
  });
}

/** The colour picker shows the stored colour (or "not set") and writes the one picked at once. */
function colorSelect(device: LabDevice, maps: ArenaMaps, slug: string): HTMLSelectElement {
  const select = el("select", { id: `${slug}-color-input`, name: "color" }, [
    el("option", { value: "", disabled: true }, ["not set"]),
    ...ARENA_COLORS.map((color) => el("option", { value: color }, [color])),
  ]);
  select.addEventListener("change", () => {
    maps.fields.set("color", select.value);
    void device.afterWrite(`set the color to ${select.value}`);
  });
  return select;
}

function colorRow(select: HTMLSelectElement, slug: string): HTMLElement {
  return el("div", { class: "edit" }, [el("label", { for: `${slug}-color-input` }, ["Color"]), select]);
}

function tagForm(device: LabDevice, maps: ArenaMaps, slug: string): HTMLFormElement {
  const input = el("input", { id: `${slug}-tag-input`, name: "tag", required: true, maxlength: "30", autocomplete: "off", placeholder: "a tag" });
  return editRow(device, `${slug}-tag-input`, "Tag", input, "Add", () => {
    maps.tags.add(TAGS_KEY, input.value);
    void device.afterWrite(`added the tag ${input.value}`);
    input.value = "";
  });
}

/** A label, a control and its button on one row; the button's accessible name says what and where ("Set title (Device A)"). */
function editRow(device: LabDevice, inputId: string, label: string, control: HTMLElement, action: string, submit: () => void): HTMLFormElement {
  const button = el("button", { type: "submit" }, [action, el("span", { class: "visually-hidden" }, [` ${label.toLowerCase()} (${device.label})`])]);
  return el("form", { class: "edit", onsubmit: (event) => {
    event.preventDefault();
    submit();
  } }, [el("label", { for: inputId }, [label]), control, button]);
}
