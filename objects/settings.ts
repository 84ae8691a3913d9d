/** The deployment's variables and plain bindings (wrangler.toml), as the objects read them. */
export interface Settings {
  /** Client JWTs: an HS256 secret, or a PEM public key (`-----BEGIN PUBLIC KEY-----`) for RS256 (a Worker secret). */
  JWT_SECRET?: string;
  /** JSON Web Key Set of the identity provider (RS256, ES256, EdDSA; keys chosen by `kid`, refetched on an unknown one). */
  TOPGUN_JWKS_URL?: string;
  /** Milliseconds after a key-set fetch during which an unknown `kid` is refused without fetching again (default 30000). */
  TOPGUN_JWKS_COOLDOWN_MS?: string;
  /** When set, a token's `iss` must be present and equal. */
  TOPGUN_JWT_ISSUER?: string;
  /** When set, a token's `aud` must be present and equal (or an array holding it). */
  TOPGUN_JWT_AUDIENCE?: string;
  /** "1" or "true" turns authentication off: local development only. */
  TOPGUN_NO_AUTH?: string;
  /** Postgres write-through (wrangler.toml `--env postgres`); absent: Durable Object storage alone. */
  HYPERDRIVE?: Hyperdrive;
  /** Maps spread over several partitions: "name:shards,name2:shards". */
  TOPGUN_SHARDED_MAPS?: string;
  /** Comma-separated JWT `sub` values that bypass access policies and administer every namespace. */
  TOPGUN_ADMIN_SUBJECTS?: string;
  /** The token claim that names a connection's namespace (tenancy); unset: the URL's `?namespace=` decides. */
  TOPGUN_NAMESPACE_CLAIM?: string;
  /** "1" lets `POST /sync` accept requests without a token, as an anonymous principal under the access policies. */
  TOPGUN_HTTP_SYNC_ANONYMOUS?: string;
  /**
   * How long tombstones are kept (milliseconds, or a duration: "30d", "12h", "10s"; default 30 days): older ones are
   * pruned by the alarm, and a client whose last sync is older gets SYNC_RESET_REQUIRED.
   */
  TOPGUN_TOMBSTONE_TTL?: string;
  /**
   * Ops per second one connection (or HTTP caller) may send, with a burst of twice as many (default 20000, as
   * PROTOCOL-NEXT.md §2 says); "off" removes the limit. Frames over it get ERROR 429 and are dropped.
   */
  TOPGUN_OP_RATE?: string;
  /**
   * How many partitions take the sockets whose URL names no map (hashed by client id): 1..271, default 16. More
   * spread the sockets' work; fewer keep each event's fan-out (one call per home with a subscriber) small.
   */
  TOPGUN_HOME_PARTITIONS?: string;
  /** "off" (or "0", "false", "no") answers every SQL_QUERY as a server without SQL. */
  TOPGUN_SQL?: string;
}
