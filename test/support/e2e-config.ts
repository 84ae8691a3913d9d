// Settings of the server that the end-to-end tests share (started by test/e2e/global-setup.ts).

/** The JWT secret (TopGun's test secret, PROTOCOL.md §2.1). */
export const E2E_JWT_SECRET = "test-e2e-secret";

/** The one map declared sharded, and its shard count. */
export const SHARDED_MAP = "sharded-e2e";
export const SHARDED_MAP_SHARDS = 16;
