import "fake-indexeddb/auto";
import { IDBAdapter } from "./idb-adapter.ts";
import { runStorageContract } from "./storage-contract.ts";

runStorageContract("IDBAdapter", (name) => new IDBAdapter({ databaseName: name }));
