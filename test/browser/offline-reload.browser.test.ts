import { describe, expect, it } from "vitest";
import { MemoryAdapter } from "../../client/storage/memory-adapter.ts";
import { TopGunClient } from "../../client/topgun-client.ts";
import { labBrowser, labServerUrl, newSessionId, screenshot, textsOf, waitForState, waitForText, waitUntilReady } from "../support/lab-browser.ts";

const lab = labBrowser();
/** The part of the lab's list items (lab/shared-session.ts) this test reads. */
interface ListItem {
  text: string;
}
const SERVER_TIMEOUT_MS = 15_000;

/** A second client (Node, memory storage) that reads the list from the server until `texts` are all in it. */
async function waitForServerList(mapName: string, texts: string[]): Promise<string[]> {
  const client = new TopGunClient({ serverUrl: labServerUrl(), storage: new MemoryAdapter() });
  try {
    await client.start();
    const list = client.getMap<ListItem>(mapName);
    return await new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server's ${mapName} never held ${texts.join(", ")}`)), SERVER_TIMEOUT_MS);
      const stop = list.subscribe((entries) => {
        const seen = entries.map(([, item]) => item.text);
        if (!texts.every((text) => seen.includes(text))) return;
        clearTimeout(timer);
        queueMicrotask(() => stop());
        resolve(seen.toSorted());
      });
    });
  } finally {
    await client.close();
  }
}

describe("Sync Lab offline writes", () => {
  it("keeps writes made offline across a reload and delivers them to the server when back online", async () => {
    const session = newSessionId();
    const page = await lab.openDevice(session);
    await waitForState(page, "main", "CONNECTED");

    await page.getByTestId("main-network").click();
    await waitForState(page, "main", "OFFLINE");
    for (const text of ["offline one", "offline two"]) {
      await page.getByTestId("list-input").fill(text);
      await page.getByTestId("list-add").click();
    }
    await waitForText(page, "main-pending", "2 writes not yet confirmed");
    await page.reload();
    await waitUntilReady(page);

    await waitForState(page, "main", "OFFLINE");
    await waitForText(page, "main-pending", "2 writes not yet confirmed");
    expect(await textsOf(page, "[data-testid=shared-list] .item-text")).toEqual(["offline one", "offline two"]);
    await page.getByTestId("main-network").click();
    await waitForText(page, "main-pending", "all writes confirmed");

    expect(await waitForServerList(`lab:${session}:list`, ["offline one", "offline two"])).toEqual(["offline one", "offline two"]);
  });

  it("shows the local write time and the server's acknowledgement of writes made online and offline", async () => {
    const page = await lab.openDevice(newSessionId());
    await waitForState(page, "main", "CONNECTED");

    await page.getByTestId("race-write").click();
    await page.locator("#race tr[data-network=online][data-acknowledged=true]").waitFor();
    await page.getByTestId("main-network").click();
    await page.getByTestId("race-write").click();
    await page.locator("#race tr[data-network=offline][data-acknowledged=false]").waitFor();
    await page.getByTestId("main-network").click();
    await page.locator("#race tr[data-network=offline][data-acknowledged=true]").waitFor();
    await screenshot(page, "latency-race", "#race");

    const localTimes = await textsOf(page, "#race [data-testid=local-latency]");
    expect(localTimes).toHaveLength(2);
    for (const time of localTimes) expect(time).toMatch(/^(< 0\.1|\d\.\d|\d{2,}) ms$|^\d+\.\d s$/);
  });
});
