import type { AccessPolicy, PolicySnapshot } from "../../core/access-policy.ts";
import type { SqlPort } from "../storage/sql-port.ts";

const DDL = `
  CREATE TABLE IF NOT EXISTS policy (id TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS control_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

/**
 * A namespace's access policies, durable in the control object's SQLite. Every change raises `version`, which
 * partitions compare to know their cached copy is stale; `configured` is set by the first policy and never cleared
 * (PROTOCOL-NEXT.md §5.2: deleting every policy does not restore allow-all).
 *
 * The snapshot is kept in memory once read: every partition that serves traffic asks for it about once a second
 * (objects/access/policy-cache.ts), and reading it costs three statements. This object is the only writer of its
 * tables, so a change here is the only thing that makes the copy stale.
 */
export class PolicyStore {
  readonly #sql: SqlPort;
  #snapshot: PolicySnapshot | undefined;

  constructor(sql: SqlPort) {
    this.#sql = sql;
    for (const statement of DDL.split(";").map((s) => s.trim()).filter(Boolean)) sql.exec(statement);
  }

  snapshot(): PolicySnapshot {
    this.#snapshot ??= { version: this.#meta("version"), configured: this.#meta("configured") === 1, policies: this.list() };
    return this.#snapshot;
  }

  list(): AccessPolicy[] {
    return this.#sql.exec("SELECT body FROM policy ORDER BY id").map((row) => JSON.parse(String(row.body)) as AccessPolicy);
  }

  get(id: string): AccessPolicy | undefined {
    const row = this.#sql.exec("SELECT body FROM policy WHERE id = ?", id)[0];
    return row === undefined ? undefined : (JSON.parse(String(row.body)) as AccessPolicy);
  }

  /** Stores the policy (a policy with the same id is replaced). */
  put(policy: AccessPolicy): void {
    this.#snapshot = undefined;
    this.#sql.transaction(() => {
      this.#sql.exec("INSERT OR REPLACE INTO policy (id, body) VALUES (?, ?)", policy.id, JSON.stringify(policy));
      this.#setMeta("configured", 1);
      this.#bump();
    });
  }

  /** Deletes the policy; true when it existed. */
  delete(id: string): boolean {
    this.#snapshot = undefined;
    return this.#sql.transaction(() => {
      const existed = this.#sql.exec("SELECT 1 AS one FROM policy WHERE id = ?", id).length > 0;
      if (existed) {
        this.#sql.exec("DELETE FROM policy WHERE id = ?", id);
        this.#bump();
      }
      return existed;
    });
  }

  #bump(): void {
    this.#setMeta("version", this.#meta("version") + 1);
  }

  #meta(name: string): number {
    const value = this.#sql.exec("SELECT value FROM control_meta WHERE name = ?", name)[0]?.value;
    return typeof value === "number" ? value : 0;
  }

  #setMeta(name: string, value: number): void {
    this.#sql.exec("INSERT OR REPLACE INTO control_meta (name, value) VALUES (?, ?)", name, value);
  }
}
