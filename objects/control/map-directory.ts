import type { SqlPort } from "../storage/sql-port.ts";

const DDL = `CREATE TABLE IF NOT EXISTS map_directory (map TEXT NOT NULL, partition INTEGER NOT NULL, PRIMARY KEY (map, partition)) WITHOUT ROWID`;

/** A map of the namespace and the partitions that hold it (one for a map, its shards' for a sharded map). */
export interface DirectoryEntry {
  name: string;
  partitions: number[];
}

/**
 * The namespace's directory of maps, in the control object's SQLite: each owner reports the maps it holds once
 * (objects/directory/known-maps.ts); reporting again is harmless.
 */
export class MapDirectory {
  readonly #sql: SqlPort;

  constructor(sql: SqlPort) {
    this.#sql = sql;
    sql.exec(DDL);
  }

  report(partition: number, maps: readonly string[]): void {
    this.#sql.transaction(() => {
      for (const map of maps) this.#sql.exec("INSERT INTO map_directory (map, partition) VALUES (?, ?) ON CONFLICT DO NOTHING", map, partition);
    });
  }

  list(): DirectoryEntry[] {
    const entries = new Map<string, number[]>();
    for (const row of this.#sql.exec("SELECT map, partition FROM map_directory ORDER BY map, partition")) {
      const name = String(row.map);
      const partitions = entries.get(name) ?? [];
      partitions.push(Number(row.partition));
      entries.set(name, partitions);
    }
    return [...entries].map(([name, partitions]) => ({ name, partitions }));
  }
}
