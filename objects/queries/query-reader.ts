import { compareEntries, type QueryEntry } from "../../core/predicate.ts";
import { partitionsOfMap, type ShardConfig } from "../../core/placement.ts";
import type { Query } from "../../core/protocol/shared.ts";
import { mergeGroups, type GroupPartial } from "../../core/query-groups.ts";
import type { QueryAnswer } from "./query-answer.ts";

/** What a one-shot read asks of the owners of a map's shards. */
export interface QueryReadOwner {
  queryRead(request: { map: string; query: Query; shards?: number }): Promise<QueryAnswer>;
}

/**
 * Home role, one-shot reads of a map over every shard (no subscription): the records of a query merged in order and
 * cut at `limit`, or a grouped query's partial aggregates merged. Live windows re-read through it, and SQL runs on it.
 */
export class QueryReader {
  readonly #owners: (partition: number) => QueryReadOwner;
  readonly #shards: () => ShardConfig;

  constructor(deps: { owners: (partition: number) => QueryReadOwner; shards: () => ShardConfig }) {
    this.#owners = deps.owners;
    this.#shards = deps.shards;
  }

  /** The matching records in query order after the cursor, at most `limit`. */
  async entries(map: string, query: Query): Promise<QueryEntry[]> {
    const answers = await this.#ask(map, query);
    const merged = answers.flatMap((a) => (a.kind === "entries" ? a.entries : []));
    if (answers.length > 1) merged.sort(compareEntries(query.sort));
    return query.limit === undefined ? merged : merged.slice(0, query.limit);
  }

  /** A grouped query's partial aggregates of every shard, merged. */
  async groups(map: string, query: Query): Promise<GroupPartial[]> {
    const answers = await this.#ask(map, query);
    return mergeGroups(answers.map((a) => (a.kind === "groups" ? a.groups : [])));
  }

  #ask(map: string, query: Query): Promise<QueryAnswer[]> {
    const partitions = partitionsOfMap(this.#shards(), map);
    return Promise.all(partitions.map((p) => this.#owners(p).queryRead({ map, query, shards: partitions.length })));
  }
}
