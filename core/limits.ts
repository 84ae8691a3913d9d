// Every size and count limit of TopGun Edge, in one place. Inbound messages are checked against these in
// validation, before any work is done (STYLE.md §3).

/** Largest inbound WebSocket frame: TopGun's 2 MiB (PROTOCOL-NEXT.md §2), far above any real client message. */
export const MAX_FRAME_BYTES = 2 * 1024 * 1024;

/**
 * Deepest msgpack nesting of an inbound frame (open non-empty containers; the top-level map is level 1), checked
 * by a non-recursive pre-scan before decoding, so a hostile frame cannot exhaust the decoder's stack.
 */
export const MAX_NESTING_DEPTH = 256;

/** Most inner items of an inbound BATCH (PROTOCOL-NEXT.md §2): more, and the whole frame is dropped with 413. */
export const MAX_BATCH_ITEMS = 8192;

/** Sustained op rate of one connection (token bucket refill, PROTOCOL-NEXT.md §2). */
export const OP_RATE_PER_SECOND = 20_000;

/** Burst of one connection's op budget: the bucket's size; it starts full. */
export const OP_BURST = 40_000;

/** Largest msgpack-encoded record value: keeps one key's row far below SQLite's row and DO value limits. */
export const MAX_VALUE_BYTES = 1024 * 1024;

/** Most ops in one OP_BATCH: the real client flushes its op log in one batch, which rarely holds more. */
export const MAX_BATCH_OPS = 2000;

/** Longest record key: keys are stored and hashed per write, and TopGun keys are short identifiers. */
export const MAX_KEY_LENGTH = 1024;

/** Longest AUTH token: JWTs are a few hundred bytes; HTTP header limits keep them under 16 KiB anyway. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** Longest map name: map names become storage keys and placement input. */
export const MAX_MAP_NAME_LENGTH = 256;

/** Longest topic name: TopGun's own topic rule is 1..256 characters (PROTOCOL.md §11.1). */
export const MAX_TOPIC_LENGTH = 256;

/** Longest lock or counter name: these are stored as keys, like map names. */
export const MAX_NAME_LENGTH = 256;

/** Longest id chosen by a client (op, request, query and subscription ids, HLC node ids): UUIDs fit easily. */
export const MAX_ID_LENGTH = 256;

/** Longest OR-Map tag: an HLC string `millis:counter:nodeId` holds a node id plus two numbers. */
export const MAX_TAG_LENGTH = MAX_ID_LENGTH + 64;

/** Longest Merkle bucket path: a path is a prefix of a key hash written as 8 hex digits. */
export const MAX_MERKLE_PATH_LENGTH = 8;

/** Longest query cursor: a cursor carries the last row's sort values and key. */
export const MAX_CURSOR_LENGTH = 4 * MAX_KEY_LENGTH;

/** Most sort keys, projected fields, group-by fields or aggregations in one query. */
export const MAX_QUERY_FIELDS = 64;

/** Longest SQL text of a SQL_QUERY. */
export const MAX_SQL_LENGTH = 16 * 1024;

/** Largest `limit` of a query: one QUERY_RESP page must stay well below the frame limit. */
export const MAX_QUERY_LIMIT = 10_000;

/** Deepest predicate tree: evaluation recurses once per level, and real filters are a few levels deep. */
export const MAX_PREDICATE_DEPTH = 32;

/** Largest `limit` of a search: TopGun's cluster search caps a page at 1000 results too. */
export const MAX_SEARCH_LIMIT = 1000;

/** Longest full-text search query: a query is a handful of terms, and every term is looked up. */
export const MAX_SEARCH_QUERY_LENGTH = 1024;

/** Most keys or entries named in one request (ORMAP_DIFF_REQUEST, ORMAP_PUSH_DIFF, ENTRY_PROCESS_BATCH). */
export const MAX_KEYS_PER_REQUEST = 1000;

/** Largest `limit` of a JOURNAL_READ: the answer is one frame. */
export const MAX_JOURNAL_READ_LIMIT = 1000;

/** Longest entry-processor name: TopGun's schema allows 1..100 characters. */
export const MAX_PROCESSOR_NAME_LENGTH = 100;

/** Longest entry-processor code: TopGun's schema allows 10000 characters (the edge runs built-ins only). */
export const MAX_PROCESSOR_CODE_LENGTH = 10_000;

/** Longest conflict-resolver name: TopGun's schema allows 1..100 characters. */
export const MAX_RESOLVER_NAME_LENGTH = 100;

/** Longest conflict-resolver code: TopGun's schema allows 50000 characters. */
export const MAX_RESOLVER_CODE_LENGTH = 50_000;

/** Highest conflict-resolver priority: TopGun's schema allows 0..100. */
export const MAX_RESOLVER_PRIORITY = 100;

/**
 * Estimated heap bytes of the in-memory caches that all the partition objects of one isolate keep together
 * (objects/storage/isolate-budget.ts, DESIGN.md "Bounded memory"): the LWW head indexes (recently read or written
 * keys' newest records, to decide merges without reading SQLite; objects/writes/lww-heads.ts) and the full-text
 * indexes (objects/search/search-index.ts). One budget for the isolate, not one per object: the objects share the
 * isolate's 128 MB however many it runs, and whichever cache the isolate's work needs gets the room. Past it, what
 * can be evicted is, idle objects' first.
 */
export const ISOLATE_CACHE_BYTES = 80 * 1024 * 1024;

/**
 * Dirty LWW heads (written, not yet compacted into lww_record, pinned in memory) over all the objects of one isolate,
 * part of ISOLATE_CACHE_BYTES: past it, each write moves a step of its own object's log into lww_record.
 */
export const ISOLATE_LOG_MAX_BYTES = 32 * 1024 * 1024;

/**
 * Topic subscriptions (connections) one partition object keeps in memory, over every topic it owns, so a publish
 * reads no SQLite (~150 bytes each with their map entries: ≤ ~3 MB); the least recently published topic is forgotten
 * past it, and a topic with more subscribers than this is read from SQLite on every publish.
 */
export const TOPIC_SUBSCRIBERS_IN_MEMORY = 20_000;

/**
 * Bounds of one object's LWW write log (heads written but not yet compacted into lww_record, pinned in memory): the
 * write that passes either compacts the log in its own transaction.
 */
export const LWW_LOG_MAX_ENTRIES = 20_000;
export const LWW_LOG_MAX_BYTES = 12 * 1024 * 1024;

/** Largest map JSON Schema (its JSON text): every partition keeps each schema compiled, and each write is checked. */
export const MAX_SCHEMA_BYTES = 64 * 1024;

/** Most maps with a schema in one namespace: partitions hold them all. */
export const MAX_SCHEMAS = 1_000;
