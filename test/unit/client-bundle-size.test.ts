import { describe, expect, it } from "vitest";
import { CLIENT_BUDGET_GZIP_BYTES, REACT_BUDGET_GZIP_BYTES, clientBundleSizes } from "../../bench/bundle-size.ts";

// Bundled for a browser as an app would (esbuild, minified ESM, React external); budgets in bench/bundle-size.ts.
const sizes = await clientBundleSizes();

describe("the client bundle", () => {
  it(`stays within ${CLIENT_BUDGET_GZIP_BYTES} bytes gzipped for topgun-edge/client`, () => {
    expect(sizes.client.gzipBytes).toBeLessThanOrEqual(CLIENT_BUDGET_GZIP_BYTES);
  });

  it(`grows by at most ${REACT_BUDGET_GZIP_BYTES} bytes gzipped with topgun-edge/react`, () => {
    expect(sizes.reactAdds.gzipBytes).toBeLessThanOrEqual(REACT_BUDGET_GZIP_BYTES);
  });

  it("carries neither zod nor msgpackr (the server keeps them; the client has its own guards and @msgpack/msgpack)", () => {
    expect(Object.keys(sizes.withReact.bytesBySource)).not.toContain("zod");
    expect(Object.keys(sizes.withReact.bytesBySource)).not.toContain("msgpackr");
  });

  it("loads the JSON Schema validator only when a map has a schema (a lazy chunk), not with the client", () => {
    expect(sizes.client.initialSources).not.toContain("@cfworker/json-schema");
    expect(sizes.client.lazy.sources).toContain("@cfworker/json-schema");
  });
});
