import { describe, expect, it } from "vitest";
import { labBrowser, newSessionId, screenshot, textsOf, waitForState } from "../support/lab-browser.ts";

const lab = labBrowser();

describe("Sync Lab shared session", () => {
  it("shows a link and QR code that open the same session", async () => {
    const session = newSessionId();
    const page = await lab.openDevice(session);

    const link = await page.getByTestId("session-link").inputValue();

    expect(new URL(link).searchParams.get("session")).toBe(session);
    expect(await page.locator("#session .qr svg").count()).toBe(1);
  });

  it("shows every device in the session and updates the shared list live on the other device", async () => {
    const session = newSessionId();
    const first = await lab.openDevice(session);
    const second = await lab.openDevice(session, { width: 390, height: 844 });
    await waitForState(first, "main", "CONNECTED");
    await waitForState(second, "main", "CONNECTED");
    await first.locator("[data-testid=presence] li:nth-child(2)").waitFor();
    await second.locator("[data-testid=presence] li:nth-child(2)").waitFor();

    await second.getByTestId("list-input").fill("from the phone");
    await second.getByTestId("list-add").click();
    await first.locator("[data-testid=shared-list] .item-text", { hasText: "from the phone" }).waitFor();
    await screenshot(first, "shared-session", "#session");
    await screenshot(second, "phone-full-page");
    await first.getByRole("button", { name: "Remove from the phone" }).click();
    await second.locator("[data-testid=shared-list] li").waitFor({ state: "detached" });

    expect(await first.locator("[data-testid=presence] li").count()).toBe(2);
    expect(await textsOf(second, "[data-testid=shared-list] .item-text")).toEqual([]);
  });
});
