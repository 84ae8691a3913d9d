// The package entry point of the HTTP client (`topgun-edge/http`), for server-side callers (Workers, Node scripts).
export { TopGunHttp, TopGunHttpError, type TopGunHttpOptions, type StoredRecord, type RecordPage, type BatchWrite, type BatchResult, type CounterValue } from "./http-client.ts";
export type { HttpSyncRequest, HttpSyncResponse } from "../../core/protocol/http-sync.ts";
export type { Query, PredicateNode } from "../../core/protocol/shared.ts";
