import { isBuiltinProcessor, unknownProcessorError } from "../../core/entry-processors.ts";
import { NO_SCHEMAS, type SchemaSet } from "../../core/map-schema.ts";
import { partitionOf, type ShardConfig } from "../../core/placement.ts";
import type { EntryProcessor, PredicateNode } from "../../core/protocol/shared.ts";
import type { ProcessOutcome, WriteOwner } from "./owner-op.ts";

/**
 * Home role, entry processors (PROTOCOL.md §11.5, Part A 11): `processor.name` picks a built-in
 * (core/entry-processors.ts); `code` is ignored, as Workers have no sandbox for it. The keys go to their owners,
 * one call per owner, which apply them atomically.
 */
export class ProcessorCoordinator {
  readonly #owners: (partition: number) => WriteOwner;
  readonly #shards: () => ShardConfig;
  readonly #home: number;
  readonly #schemas: () => SchemaSet | Promise<SchemaSet>;

  /** `schemas`: the namespace's map schemas (the partition's cached copy); a processor's new value must conform. */
  constructor(deps: { owners: (partition: number) => WriteOwner; shards: () => ShardConfig; home: number; schemas?: () => SchemaSet | Promise<SchemaSet> }) {
    this.#schemas = deps.schemas ?? (() => NO_SCHEMAS);
    this.#owners = deps.owners;
    this.#shards = deps.shards;
    this.#home = deps.home;
  }

  /** ENTRY_PROCESS → ENTRY_PROCESS_RESPONSE. */
  async process(
    conn: string,
    request: { requestId: string; mapName: string; key: string; processor: EntryProcessor },
    reply: (m: unknown) => void,
    guard?: PredicateNode,
  ): Promise<void> {
    const results = await this.#run(conn, request.mapName, [request.key], request.processor, guard);
    reply({ type: "ENTRY_PROCESS_RESPONSE", requestId: request.requestId, ...results[request.key] });
  }

  /** ENTRY_PROCESS_BATCH → ENTRY_PROCESS_BATCH_RESPONSE, results by key. */
  async processBatch(
    conn: string,
    request: { requestId: string; mapName: string; keys: string[]; processor: EntryProcessor },
    reply: (m: unknown) => void,
    guard?: PredicateNode,
  ): Promise<void> {
    const results = await this.#run(conn, request.mapName, request.keys, request.processor, guard);
    reply({ type: "ENTRY_PROCESS_BATCH_RESPONSE", requestId: request.requestId, results });
  }

  async #run(conn: string, map: string, keys: readonly string[], processor: EntryProcessor, guard?: PredicateNode): Promise<Record<string, ProcessOutcome>> {
    const unique = [...new Set(keys)];
    if (!isBuiltinProcessor(processor.name)) {
      const error = unknownProcessorError(processor.name);
      return Object.fromEntries(unique.map((key) => [key, { success: false, error }]));
    }
    let schemas: SchemaSet;
    try {
      schemas = await this.#schemas();
    } catch (err) {
      console.error(`[home p${this.#home}] no map schemas could be read for an entry processor`, err);
      return Object.fromEntries(unique.map((key) => [key, { success: false, error: "map schemas unavailable; retry" }]));
    }
    const schema = schemas.schemaOf(map);
    const byOwner = new Map<number, string[]>();
    for (const key of unique) {
      const owner = partitionOf(this.#shards(), map, key);
      const list = byOwner.get(owner);
      if (list) list.push(key);
      else byOwner.set(owner, [key]);
    }
    const writer = { home: this.#home, conn };
    const call = { name: processor.name, ...(processor.args === undefined ? {} : { args: processor.args }) };
    const answers = await Promise.all(
      [...byOwner].map(([partition, ownerKeys]) =>
        this.#owners(partition)
          .process({ map, keys: ownerKeys, processor: call, writer, ...(guard === undefined ? {} : { guard }), ...(schema === undefined ? {} : { schema }) })
          .catch((err: unknown): Record<string, ProcessOutcome> => {
            console.error(`[home p${this.#home}] entry processor failed at p${partition}`, err);
            return Object.fromEntries(ownerKeys.map((key) => [key, { success: false, error: "owner unavailable; retry" }]));
          }),
      ),
    );
    return Object.assign({}, ...answers) as Record<string, ProcessOutcome>;
  }
}
