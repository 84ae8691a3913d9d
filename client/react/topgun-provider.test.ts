// @vitest-environment jsdom
import { renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanUpReact, providing, startClient } from "./testing/react-client.ts";
import { useClient } from "./topgun-provider.tsx";
import { useMap } from "./use-map.tsx";

afterEach(cleanUpReact);

describe("TopGunProvider", () => {
  it("gives hooks below it its client", async () => {
    const client = await startClient();

    const { result } = renderHook(() => useClient(), { wrapper: providing(client) });

    expect(result.current).toBe(client);
  });

  it("makes a hook used outside it throw an error that names the provider", () => {
    // React logs the render error as well; keep the test output clean.
    const quiet = vi.spyOn(console, "error").mockImplementation(() => {});

    expect(() => renderHook(() => useMap("scores"))).toThrow(/inside <TopGunProvider/);
    quiet.mockRestore();
  });
});
