import { describe, expect, it } from "vitest";
import { labBrowser, newSessionId, screenshot, textsOf, waitForState, waitForText } from "../support/lab-browser.ts";

const lab = labBrowser();

describe("Sync Lab conflict arena", () => {
  it("converges two devices on the same LWW winners and the union of OR-Map tags after conflicting offline edits", async () => {
    const page = await lab.openDevice(newSessionId());
    await waitForState(page, "device-a", "CONNECTED");
    await waitForState(page, "device-b", "CONNECTED");

    await page.getByTestId("arena-scenario").click();
    await waitForState(page, "device-b", "OFFLINE");
    await waitForText(page, "device-b-pending", "3 writes not yet confirmed");
    await screenshot(page, "arena-diverged", "#arena");
    await page.getByTestId("device-b-network").click();
    await page.locator("[data-testid=arena-verdict][data-converged=true]").waitFor();
    await screenshot(page, "arena-converged", "#arena");

    const titles = await textsOf(page, "[data-testid=device-a-title], [data-testid=device-b-title]");
    const colors = await textsOf(page, "[data-testid=device-a-color], [data-testid=device-b-color]");
    const tagsA = await textsOf(page, "[data-testid=device-a-tags] .tag");
    const tagsB = await textsOf(page, "[data-testid=device-b-tags] .tag");
    expect(titles[0]).toBe(titles[1]);
    expect(titles[0]).toMatch(/^Plan from [AB]/);
    expect(colors[0]).toBe(colors[1]);
    expect(tagsA.toSorted()).toEqual(["from-a", "from-b"]);
    expect(tagsB.toSorted()).toEqual(["from-a", "from-b"]);
  });

  it("merges edits made on a third device added to the arena", async () => {
    const page = await lab.openDevice(newSessionId());
    await page.getByTestId("arena-add-device").click();
    await waitForState(page, "device-c", "CONNECTED");

    await page.locator("#device-c-title-input").fill("Third device wins");
    await page.locator("#device-c-title-input").press("Enter");

    await waitForText(page, "device-a-title-value", "Third device wins");
    await page.locator("[data-testid=arena-verdict][data-converged=true]").waitFor();
    expect(await textsOf(page, "[data-testid$=-title] .value")).toEqual(["Third device wins", "Third device wins", "Third device wins"]);
  });
});
