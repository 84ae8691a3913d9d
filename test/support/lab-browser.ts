// What the Sync Lab browser tests share: one Chromium per test file, a fresh browser context per device (its
// own IndexedDB and storage, like another phone), pages waited on by their data-testid hooks, and screenshots
// in test-artifacts/sync-lab/.
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, inject } from "vitest";
import { launchChromium } from "./chromium.ts";
import { PROJECT_ROOT } from "./server-harness.ts";

export const ARTIFACTS_DIR = join(PROJECT_ROOT, "test-artifacts", "sync-lab");
/** How long a page may take to show what a test waits for (sync over a local server takes milliseconds). */
export const UI_TIMEOUT_MS = 15_000;

/** The server started by test/browser/global-setup.ts. */
export function labServerUrl(): string {
  return inject("labServerUrl");
}

/** A session id no other test uses. */
export function newSessionId(): string {
  return `t-${randomUUID().slice(0, 12)}`;
}

/** A browser for this test file; each `openDevice` is a new context, closed after each test. */
export function labBrowser() {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    browser = await launchChromium(inject("chromiumPath"));
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    /** Opens the lab in `session` on a new device (browser context) and waits until it is running. */
    async openDevice(session: string, viewport = { width: 1200, height: 900 }): Promise<Page> {
      if (browser === undefined) throw new Error("the browser did not launch");
      const context = await browser.newContext({ viewport });
      contexts.push(context);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (err) => errors.push(err.message));
      await page.goto(`${labServerUrl()}/?session=${session}`);
      await waitUntilReady(page, errors);
      return page;
    },
  };
}

/** Waits until main.ts has mounted every section, failing with the page's own errors if it never does. */
export async function waitUntilReady(page: Page, errors: string[] = []): Promise<void> {
  try {
    await page.locator("body[data-ready=true]").waitFor({ timeout: UI_TIMEOUT_MS });
  } catch (err) {
    const fatal = await page.locator("#fatal").textContent();
    throw new Error(`the Sync Lab did not start: ${fatal ?? ""} ${errors.join("; ")} (${String(err)})`);
  }
}

/** Waits until the device's status shows `state` (CONNECTED, OFFLINE, ...). */
export async function waitForState(page: Page, device: string, state: string): Promise<void> {
  await page.locator(`[data-testid=${device}-state][data-state=${state}]`).waitFor({ timeout: UI_TIMEOUT_MS });
}

/** Waits until an element's text is exactly `text`. */
export async function waitForText(page: Page, testId: string, text: string): Promise<void> {
  const exactly = new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
  await page.getByTestId(testId).filter({ hasText: exactly }).waitFor({ timeout: UI_TIMEOUT_MS });
}

/** The texts of the elements matching `selector`, in page order. */
export function textsOf(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).allTextContents();
}

/** Saves a screenshot of one section (`#race`, `#arena`, `#session`) or the whole page as `name`.png. */
export async function screenshot(page: Page, name: string, selector?: string): Promise<void> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  if (selector === undefined) await page.screenshot({ path, fullPage: true });
  else await page.locator(selector).screenshot({ path });
}
