import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { labBrowser, newSessionId, screenshot, waitForState } from "../support/lab-browser.ts";

const lab = labBrowser();

/** The page's width including what only scrolling would show. */
const scrollWidth = (page: Page) => page.evaluate<number>("document.documentElement.scrollWidth");

/** Whether two elements share a line: their vertical centres are within 4 px. */
async function onOneLine(a: Locator, b: Locator): Promise<boolean> {
  const [boxA, boxB] = [await a.boundingBox(), await b.boundingBox()];
  if (boxA === null || boxB === null) return false;
  return Math.abs(boxA.y + boxA.height / 2 - (boxB.y + boxB.height / 2)) <= 4;
}

describe("Sync Lab pictures", () => {
  it("draws each write, its acknowledgement and the change arriving on the other devices in the timeline", async () => {
    const page = await lab.openDevice(newSessionId());
    await waitForState(page, "device-b", "CONNECTED");

    await page.locator("#device-a-title-input").fill("Seen everywhere");
    await page.locator("#device-a-title-input").press("Enter");
    await page.locator("[data-testid=device-b-title-value]", { hasText: "Seen everywhere" }).waitFor();
    await page.locator("[data-testid=timeline] .ack").first().waitFor();
    await page.locator("[data-testid=timeline] .receive").first().waitFor();
    await screenshot(page, "timeline", "#timeline");

    expect(await page.locator("[data-testid=timeline] .write").count()).toBe(1);
    expect(await page.locator("[data-testid=timeline] .receive title").allTextContents()).toContain("Device B received title from Device A");
    expect(await page.getByTestId("timeline-latest").textContent()).toMatch(/^Latest: /);
  });

  it("plots each race write's local time and its acknowledgement", async () => {
    const page = await lab.openDevice(newSessionId());
    await waitForState(page, "main", "CONNECTED");

    await page.getByTestId("race-write").click();
    await page.getByTestId("race-write").click();
    await page.locator("[data-testid=race-chart] .ack >> nth=1").waitFor();
    await screenshot(page, "latency-chart", "#race");

    expect(await page.getByTestId("race-chart").getAttribute("data-writes")).toBe("2");
    expect(await page.locator("[data-testid=race-chart] circle.local").count()).toBe(2);
  });
});

describe("Sync Lab layout", () => {
  it("fits a 390 px phone without horizontal scrolling, with the shared list first and no QR code", async () => {
    const page = await lab.openDevice(newSessionId(), { width: 390, height: 844 });
    await waitForState(page, "main", "CONNECTED");
    await screenshot(page, "phone");

    const top = async (selector: string) => (await page.locator(selector).boundingBox())?.y ?? Number.NaN;
    expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
    expect(await top("#session")).toBeLessThan(await top("#timeline"));
    expect(await top("#list-input")).toBeLessThan(844);
    expect(await page.locator("#session .qr").isVisible()).toBe(false);
  });

  it("keeps each of three device cards' buttons beside their inputs and tags on one line at 1280 px", async () => {
    const page = await lab.openDevice(newSessionId(), { width: 1280, height: 900 });
    await page.getByTestId("arena-add-device").click();
    await waitForState(page, "device-c", "CONNECTED");
    await page.locator("#device-a-tag-input").fill("a-rather-long-tag-name");
    await page.locator("#device-a-tag-input").press("Enter");
    await page.locator("[data-testid=device-c-tags] li").waitFor();
    await screenshot(page, "arena-three-devices", "#arena");

    const misplaced: string[] = [];
    for (const form of await page.locator("#arena form.edit").all()) {
      if (!(await onOneLine(form.locator("input"), form.locator("button")))) misplaced.push(`${await form.locator("label").textContent()} form`);
    }
    for (const item of await page.locator("#arena .tags li").all()) {
      if (!(await onOneLine(item.locator(".tag"), item.locator("button")))) misplaced.push("a tag's × button");
    }
    for (const heading of await page.locator("#arena .device h3").all()) {
      if (((await heading.boundingBox())?.height ?? 0) > 40) misplaced.push(`${await heading.textContent()} heading wraps`);
    }
    expect(misplaced).toEqual([]);
    expect(await scrollWidth(page)).toBeLessThanOrEqual(1280);
  });
});
