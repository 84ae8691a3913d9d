import { MemoryAdapter } from "./memory-adapter.ts";
import { runStorageContract } from "./storage-contract.ts";

const instances = new Map<string, MemoryAdapter>();

// The same instance for the same name stands in for "the same database" across a reload.
runStorageContract("MemoryAdapter", (name) => {
  let adapter = instances.get(name);
  if (adapter === undefined) {
    adapter = new MemoryAdapter();
    instances.set(name, adapter);
  }
  return adapter;
});
