-- TopGun Edge write-through schema: every change a Partition object applies, queryable with SQL.
-- Values: `value` holds the JSON form when JSON can hold the value exactly; `value_msgpack` always holds the
-- msgpack bytes the edge stores (lossless: binary and integers beyond JSON stay exact). Tombstones keep their
-- HLC so a restore gives clients the same Merkle roots.

CREATE TABLE IF NOT EXISTS lww_records (
  namespace     TEXT        NOT NULL,
  map           TEXT        NOT NULL,
  key           TEXT        NOT NULL,
  value         JSONB,
  value_msgpack BYTEA,
  hlc_millis    BIGINT      NOT NULL,
  hlc_counter   INTEGER     NOT NULL,
  hlc_node      TEXT        NOT NULL,
  tombstone     BOOLEAN     NOT NULL,
  ttl_ms        BIGINT,
  updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, map, key)
);

CREATE TABLE IF NOT EXISTS or_records (
  namespace     TEXT        NOT NULL,
  map           TEXT        NOT NULL,
  key           TEXT        NOT NULL,
  tag           TEXT        NOT NULL,
  value         JSONB,
  value_msgpack BYTEA       NOT NULL,
  hlc_millis    BIGINT      NOT NULL,
  hlc_counter   INTEGER     NOT NULL,
  hlc_node      TEXT        NOT NULL,
  ttl_ms        BIGINT,
  updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, map, key, tag)
);

CREATE TABLE IF NOT EXISTS or_tombstones (
  namespace  TEXT        NOT NULL,
  map        TEXT        NOT NULL,
  tag        TEXT        NOT NULL,
  key        TEXT,
  removed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, map, tag)
);

CREATE INDEX IF NOT EXISTS or_records_tag ON or_records (namespace, map, tag);
