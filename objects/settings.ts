/** The deployment's variables and plain bindings (wrangler.toml), as the objects read them. */
export interface Settings {
  /** HS256 secret for client JWTs (a Worker secret). */
  JWT_SECRET?: string;
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
}
