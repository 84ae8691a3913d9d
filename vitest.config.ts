import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Four projects, split by where the tests run (see README "Tests").
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          environment: "node",
          include: ["core/**/*.test.ts", "client/**/*.test.ts", "lab/**/*.test.ts", "worker/**/*.test.ts", "objects/**/*.test.ts", "migrations/**/*.test.ts", "test/unit/**/*.test.ts"],
          exclude: ["**/*.workerd.test.ts", "**/*.e2e.test.ts", "node_modules/**"],
        },
      },
      {
        plugins: [cloudflareTest({ wrangler: { configPath: "./test/workerd/wrangler.test.toml" } })],
        test: {
          name: "workerd",
          include: ["**/*.workerd.test.ts"],
          exclude: ["node_modules/**"],
        },
      },
      {
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.e2e.test.ts"],
          globalSetup: ["test/e2e/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "browser",
          environment: "node",
          include: ["test/browser/**/*.browser.test.ts"],
          globalSetup: ["test/browser/global-setup.ts"],
          testTimeout: 60_000,
          // The global setup (no timeout of its own) installs Chromium with apt on a fresh machine; hooks only launch it.
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
