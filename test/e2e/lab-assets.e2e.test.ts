import { describe, expect, it } from "vitest";
import { serverUrl } from "../support/e2e-context.ts";

// The Sync Lab page shares `/` with the WebSocket endpoint (handshake.e2e.test.ts covers the upgrade there).
describe("Sync Lab assets", () => {
  it("serves the Sync Lab page to a plain GET of /", async () => {
    const response = await fetch(`${serverUrl()}/`);

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/text\/html/);
    expect(await response.text()).toContain("<title>TopGun Edge · Sync Lab</title>");
  });

  it("serves the page's bundled script and styles from the server itself", async () => {
    const [script, styles] = await Promise.all([fetch(`${serverUrl()}/main.js`), fetch(`${serverUrl()}/styles.css`)]);

    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    expect(styles.status).toBe(200);
    expect(styles.headers.get("content-type")).toMatch(/text\/css/);
  });

  it("answers an unknown path with a JSON 404, not a page", async () => {
    const response = await fetch(`${serverUrl()}/v1/no-such-api`);

    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
  });

  it("still answers a plain GET of /ws with 426", async () => {
    const response = await fetch(`${serverUrl()}/ws`);

    expect(response.status).toBe(426);
  });
});
