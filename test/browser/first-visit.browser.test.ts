import { describe, expect, it } from "vitest";
import { labBrowser, newSessionId, screenshot, waitForState } from "../support/lab-browser.ts";

const lab = labBrowser();

describe("Sync Lab on a first visit", () => {
  it("gives no verdict before anything was written and says what to do in every empty section", async () => {
    const page = await lab.openDevice(newSessionId());
    await waitForState(page, "device-a", "CONNECTED");
    await waitForState(page, "device-b", "CONNECTED");
    await page.locator("[data-testid=arena-verdict][data-verdict=empty]").waitFor();
    await screenshot(page, "first-visit");

    expect(await page.getByTestId("arena-verdict").textContent()).toMatch(/^Nothing to compare yet/);
    expect(await page.locator("#race tr.empty").textContent()).toMatch(/No writes yet/);
    expect(await page.getByTestId("shared-list-empty").isVisible()).toBe(true);
    expect(await page.getByTestId("device-a-tags-empty").isVisible()).toBe(true);
    expect(await page.getByTestId("timeline-latest").textContent()).toMatch(/^Nothing has happened yet/);
  });

  it("says the page runs three clients and labels the header's status as this device's", async () => {
    const page = await lab.openDevice(newSessionId());

    expect(await page.locator(".lede").textContent()).toMatch(/three sync clients/);
    expect(await page.getByRole("region", { name: /^This device/ }).getByTestId("main-state").count()).toBe(1);
    const name = (await page.locator("#this-device-name").textContent()) ?? "";
    await page.locator("[data-testid=presence] li", { hasText: `${name} (this device)` }).waitFor();
  });

  it("names each network switch and edit button for what it does and the device it belongs to", async () => {
    const page = await lab.openDevice(newSessionId());
    await waitForState(page, "device-b", "CONNECTED");

    await page.getByRole("button", { name: "Go offline (Device B)" }).click();
    await waitForState(page, "device-b", "OFFLINE");

    const online = page.getByRole("button", { name: "Go online (Device B)" });
    expect(await online.count()).toBe(1);
    // The visible words; the device's name is there for screen readers only.
    expect(await online.locator("span:not(.visually-hidden)").textContent()).toBe("Go online");
    expect(await page.getByRole("button", { name: "Go offline (this device)" }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Set title (Device A)" }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Add tag (Device A)" }).count()).toBe(1);
    expect(await page.getByTestId("device-b-state").textContent()).toBe("offline");
  });

  it("shows the stored colour in every colour picker, and 'not set' before there is one", async () => {
    const page = await lab.openDevice(newSessionId());
    await waitForState(page, "device-b", "CONNECTED");
    const pickedText = (slug: string) => page.locator(`#${slug}-color-input option:checked`).textContent();

    expect(await pickedText("device-a")).toBe("not set");
    await page.locator("#device-a-color-input").selectOption("violet");
    await page.locator("[data-testid=device-b-color-value]", { hasText: "violet" }).waitFor();

    expect(await pickedText("device-b")).toBe("violet");
    expect(await page.getByTestId("device-b-color-hlc").textContent()).toMatch(/^by Device A at \d\d:\d\d:\d\d\.\d{3}$/);
  });

  it("reconnects within 300 ms of 'Go online' even after several failed retries", async () => {
    const page = await lab.openDevice(newSessionId());
    await waitForState(page, "device-b", "CONNECTED");
    await page.getByTestId("device-b-network").click();
    // By the third retry the backoff waits ≥ 0.8 s, so a reconnect that waited for it would be late.
    await page.locator("[data-testid=device-b-attempts]", { hasText: /^[3-9] retries$/ }).waitFor();

    // Timed inside the page (this file is type-checked without the DOM, hence the string).
    const elapsedMs = await page.evaluate<number>(`new Promise((resolve) => {
      const state = document.querySelector("[data-testid=device-b-state]");
      const started = performance.now();
      new MutationObserver(() => {
        if (state.dataset.state === "CONNECTED") resolve(performance.now() - started);
      }).observe(state, { attributes: true });
      document.querySelector("[data-testid=device-b-network]").click();
    })`);

    expect(elapsedMs).toBeLessThan(300);
  });
});
