import type { SqlPort } from "./sql-port.ts";

/** DDL of the outbox (schema step 4; persistence/outbox.ts writes and reads it). */
export const OUTBOX_DDL = `
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, map TEXT NOT NULL, key TEXT NOT NULL, tag TEXT, value BLOB,
    millis INTEGER, counter INTEGER, node TEXT, ttl_ms INTEGER, queued_at INTEGER NOT NULL
  )`;

/**
 * The SQLite schema of a Partition, as numbered steps. `applySchema` runs the steps this object has not run yet,
 * so an object created by an older version upgrades itself on wake.
 */
const STEPS: readonly string[] = [
  // 1: CRDT records, Merkle leaf sums, interest (owner role) and connection interest (home role).
  // Records are keyed (map, leaf, key): the leaf derives from the key, so point lookups still use the key, leaf
  // reads need no second index, and each write updates one B-tree (the measured cost of a batch was SQLite's).
  `
  CREATE TABLE lww_record (
    map TEXT NOT NULL, key TEXT NOT NULL, value BLOB, millis INTEGER NOT NULL, counter INTEGER NOT NULL,
    node TEXT NOT NULL, ttl_ms INTEGER, leaf INTEGER NOT NULL, hash INTEGER NOT NULL,
    PRIMARY KEY (map, leaf, key)
  ) WITHOUT ROWID;
  CREATE TABLE or_record (
    map TEXT NOT NULL, key TEXT NOT NULL, tag TEXT NOT NULL, value BLOB NOT NULL, millis INTEGER NOT NULL,
    counter INTEGER NOT NULL, node TEXT NOT NULL, ttl_ms INTEGER,
    PRIMARY KEY (map, key, tag)
  ) WITHOUT ROWID;
  CREATE INDEX or_record_tag ON or_record (map, tag);
  CREATE TABLE or_tombstone (map TEXT NOT NULL, tag TEXT NOT NULL, key TEXT, PRIMARY KEY (map, tag)) WITHOUT ROWID;
  CREATE INDEX or_tombstone_key ON or_tombstone (map, key);
  CREATE TABLE or_key (
    map TEXT NOT NULL, key TEXT NOT NULL, leaf INTEGER NOT NULL, hash INTEGER NOT NULL, PRIMARY KEY (map, key)
  ) WITHOUT ROWID;
  CREATE INDEX or_key_leaf ON or_key (map, leaf);
  CREATE TABLE merkle_leaf (
    kind INTEGER NOT NULL, map TEXT NOT NULL, leaf INTEGER NOT NULL, hash INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (kind, map, leaf)
  ) WITHOUT ROWID;
  CREATE TABLE interest (
    map TEXT NOT NULL, kind INTEGER NOT NULL, home INTEGER NOT NULL, conn TEXT NOT NULL,
    PRIMARY KEY (map, kind, home, conn)
  ) WITHOUT ROWID;
  CREATE INDEX interest_conn ON interest (home, conn);
  CREATE TABLE conn_interest (
    conn TEXT NOT NULL, kind INTEGER NOT NULL, map TEXT NOT NULL, PRIMARY KEY (conn, kind, map)
  ) WITHOUT ROWID;
  `,
  // 2: live queries: subscriptions and the keys each currently holds (owner role), each connection's queries (home role).
  `
  CREATE TABLE query_sub (
    home INTEGER NOT NULL, conn TEXT NOT NULL, query_id TEXT NOT NULL, map TEXT NOT NULL, filter BLOB NOT NULL,
    PRIMARY KEY (home, conn, query_id)
  ) WITHOUT ROWID;
  CREATE INDEX query_sub_map ON query_sub (map);
  CREATE TABLE query_match (
    home INTEGER NOT NULL, conn TEXT NOT NULL, query_id TEXT NOT NULL, key TEXT NOT NULL,
    PRIMARY KEY (home, conn, query_id, key)
  ) WITHOUT ROWID;
  CREATE TABLE conn_query (conn TEXT NOT NULL, query_id TEXT NOT NULL, map TEXT NOT NULL, PRIMARY KEY (conn, query_id)) WITHOUT ROWID;
  `,
  // 3: topic and counter subscriptions, counter states, locks and their FIFO queues (owner role); the owners each
  // connection has topic, counter or lock state at (home role). lock_state keeps a released lock's last token.
  `
  CREATE TABLE topic_sub (topic TEXT NOT NULL, home INTEGER NOT NULL, conn TEXT NOT NULL, PRIMARY KEY (topic, home, conn)) WITHOUT ROWID;
  CREATE INDEX topic_sub_conn ON topic_sub (home, conn);
  CREATE TABLE counter_state (name TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE counter_sub (name TEXT NOT NULL, home INTEGER NOT NULL, conn TEXT NOT NULL, PRIMARY KEY (name, home, conn)) WITHOUT ROWID;
  CREATE INDEX counter_sub_conn ON counter_sub (home, conn);
  CREATE TABLE lock_state (
    name TEXT PRIMARY KEY, token INTEGER NOT NULL, home INTEGER, conn TEXT, request_id TEXT, expires_at INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX lock_state_holder ON lock_state (home, conn);
  CREATE INDEX lock_state_expiry ON lock_state (expires_at);
  CREATE TABLE lock_wait (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, home INTEGER NOT NULL, conn TEXT NOT NULL,
    request_id TEXT NOT NULL, ttl_ms INTEGER NOT NULL
  );
  CREATE INDEX lock_wait_name ON lock_wait (name, seq);
  CREATE INDEX lock_wait_conn ON lock_wait (home, conn);
  CREATE TABLE conn_coordination (conn TEXT NOT NULL, partition INTEGER NOT NULL, PRIMARY KEY (conn, partition)) WITHOUT ROWID;
  `,
  // 4: the outbox of changes waiting for Postgres (owner role; empty while write-through is off).
  OUTBOX_DDL,
  // 5: the event journal of the maps this partition owns and its subscriptions (owner role); each connection's
  // journal subscriptions (home role). tick: see journal-service.ts (sequence = tick * 1000 + partition).
  `
  CREATE TABLE journal_event (
    tick INTEGER PRIMARY KEY, map TEXT NOT NULL, key TEXT NOT NULL, type TEXT NOT NULL, value BLOB, prev BLOB,
    millis INTEGER NOT NULL, counter INTEGER NOT NULL, node TEXT NOT NULL
  );
  CREATE INDEX journal_event_map ON journal_event (map, tick);
  CREATE TABLE journal_sub (
    home INTEGER NOT NULL, conn TEXT NOT NULL, sub_id TEXT NOT NULL, map TEXT, types TEXT, PRIMARY KEY (home, conn, sub_id)
  ) WITHOUT ROWID;
  CREATE TABLE conn_journal (conn TEXT NOT NULL, sub_id TEXT NOT NULL, map TEXT, PRIMARY KEY (conn, sub_id)) WITHOUT ROWID;
  `,
  // 6: full-text search subscriptions and the keys each currently holds (owner role), each connection's search
  // subscriptions (home role). The indexes themselves live in memory only (search-index.ts).
  `
  CREATE TABLE search_sub (
    home INTEGER NOT NULL, conn TEXT NOT NULL, sub_id TEXT NOT NULL, map TEXT NOT NULL, query TEXT NOT NULL,
    options BLOB NOT NULL, PRIMARY KEY (home, conn, sub_id)
  ) WITHOUT ROWID;
  CREATE INDEX search_sub_map ON search_sub (map);
  CREATE TABLE search_match (
    home INTEGER NOT NULL, conn TEXT NOT NULL, sub_id TEXT NOT NULL, key TEXT NOT NULL,
    PRIMARY KEY (home, conn, sub_id, key)
  ) WITHOUT ROWID;
  CREATE TABLE conn_search (conn TEXT NOT NULL, sub_id TEXT NOT NULL, map TEXT NOT NULL, PRIMARY KEY (conn, sub_id)) WITHOUT ROWID;
  `,
  // 7: which LWW trees' merkle_leaf rows are up to date with their records (see merkle-store.ts); a tree without
  // a row here has its leaf sums derived from lww_record when loaded.
  `
  CREATE TABLE merkle_current (kind INTEGER NOT NULL, map TEXT NOT NULL, PRIMARY KEY (kind, map)) WITHOUT ROWID;
  `,
  // 8: the journal is a ring of at most ~10 000 events: a read by map scans it by tick instead of keeping a second
  // B-tree per appended and trimmed event (measured: a large part of the journal's cost per write).
  `DROP INDEX IF EXISTS journal_event_map`,
  // 9: the maps this owner holds and whether the namespace's map directory has heard of each (objects/directory/);
  // the maps written before this step are taken from the records, to be reported on the next write.
  `
  CREATE TABLE known_map (map TEXT PRIMARY KEY, reported INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO known_map (map, reported) SELECT map, 0 FROM lww_record GROUP BY map UNION SELECT map, 0 FROM or_key GROUP BY map;
  `,
  // 10: home role of grouped and windowed (limited) live queries: the query, each shard's partial aggregates, and
  // the keys of the top-N window with their sort positions.
  `
  CREATE TABLE query_view (conn TEXT NOT NULL, query_id TEXT NOT NULL, map TEXT NOT NULL, query BLOB NOT NULL, PRIMARY KEY (conn, query_id)) WITHOUT ROWID;
  CREATE TABLE query_group (
    conn TEXT NOT NULL, query_id TEXT NOT NULL, partition INTEGER NOT NULL, group_id TEXT NOT NULL, partial BLOB NOT NULL,
    PRIMARY KEY (conn, query_id, partition, group_id)
  ) WITHOUT ROWID;
  CREATE TABLE query_window (
    conn TEXT NOT NULL, query_id TEXT NOT NULL, key TEXT NOT NULL, position TEXT NOT NULL, PRIMARY KEY (conn, query_id, key)
  ) WITHOUT ROWID;
  `,
  // 11: the LWW write log (objects/writes/lww-log.ts): one row per map per batch with its winning records, compacted
  // into lww_record in key order by the alarm or when it passes its bound; an object replays it when it wakes.
  `
  CREATE TABLE lww_log (seq INTEGER PRIMARY KEY, map TEXT NOT NULL, records BLOB NOT NULL);
  `,
  // 12: the journal keeps one row per appended batch (journal-service.ts): a msgpack array of
  // [tick, map, key, type, value, previous value, millis, counter, node], so a batch of 100 changes costs one row
  // instead of 100. Older single-event rows become one-event batches holding the same array as JSON (values in hex).
  `
  CREATE TABLE journal_batch (first_tick INTEGER PRIMARY KEY, last_tick INTEGER NOT NULL, count INTEGER NOT NULL, events NOT NULL);
  INSERT INTO journal_batch (first_tick, last_tick, count, events)
    SELECT tick, tick, 1, json_array(json_array(tick, map, key, type,
      CASE WHEN value IS NULL THEN NULL ELSE lower(hex(value)) END, CASE WHEN prev IS NULL THEN NULL ELSE lower(hex(prev)) END,
      millis, counter, node))
    FROM journal_event;
  DROP TABLE journal_event
  `,
  // 13: tombstone GC and TTL expiry (objects/expiry/): an OR-Map tombstone keeps when the owner recorded it (the
  // ones recorded before this step count from the step), and partial indexes find the oldest tombstones and the
  // next records to expire without scanning the records (puts without a TTL add no index entry).
  `
  ALTER TABLE or_tombstone ADD COLUMN millis INTEGER;
  UPDATE or_tombstone SET millis = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER);
  CREATE INDEX or_tombstone_age ON or_tombstone (millis);
  CREATE INDEX lww_record_tombstone ON lww_record (millis) WHERE value IS NULL;
  CREATE INDEX lww_record_expiry ON lww_record (millis + ttl_ms) WHERE value IS NOT NULL AND ttl_ms > 0;
  CREATE INDEX or_record_expiry ON or_record (millis + ttl_ms) WHERE ttl_ms > 0
  `,
  // 14: an LWW tree's checkpoint is one snapshot blob in its merkle_current row (writes/leaf-sums-snapshot.ts)
  // instead of a merkle_leaf row per changed leaf. Trees checkpointed as rows are derived from lww_record once more.
  `
  ALTER TABLE merkle_current ADD COLUMN sums BLOB;
  DELETE FROM merkle_current WHERE kind = 0;
  DELETE FROM merkle_leaf WHERE kind = 0
  `,
];


/** Runs the steps not run yet, up to `lastStep` (all of them; tests stop earlier to build an older object). */
export function applySchema(sql: SqlPort, lastStep = STEPS.length): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_step (step INTEGER PRIMARY KEY)");
  const done = Number(sql.exec("SELECT COALESCE(MAX(step), 0) AS step FROM schema_step")[0]?.step ?? 0);
  STEPS.forEach((ddl, index) => {
    const step = index + 1;
    if (step <= done || step > lastStep) return;
    sql.transaction(() => {
      for (const statement of ddl.split(";")) if (statement.trim()) sql.exec(statement);
      sql.exec("INSERT INTO schema_step (step) VALUES (?)", step);
    });
  });
}
