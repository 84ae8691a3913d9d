// Partition-map discovery (PROTOCOL.md §9). The edge never answers the request (Part A 13); the reply is
// parsed only by clients.
import * as z from "./zod.ts";
import { optionalField, wireI64, wireIdSchema, wireU32 } from "./shared.ts";

export const partitionMapRequestMessageSchema = z.object({
  type: z.literal("PARTITION_MAP_REQUEST"),
  payload: optionalField(z.object({ currentVersion: optionalField(wireU32) })),
});
export type PartitionMapRequestMessage = z.infer<typeof partitionMapRequestMessageSchema>;

export const nodeStatusSchema = z.enum(["ACTIVE", "JOINING", "LEAVING", "SUSPECTED", "FAILED"]);

export const partitionMapMessageSchema = z.object({
  type: z.literal("PARTITION_MAP"),
  payload: z.object({
    version: wireU32,
    partitionCount: wireU32,
    nodes: z.array(
      z.object({
        nodeId: wireIdSchema,
        endpoints: z.object({ websocket: z.string(), http: optionalField(z.string()) }),
        status: nodeStatusSchema,
      }),
    ),
    partitions: z.array(
      z.object({ partitionId: wireU32, ownerNodeId: wireIdSchema, backupNodeIds: z.array(wireIdSchema) }),
    ),
    generatedAt: wireI64,
  }),
});
export type PartitionMapMessage = z.infer<typeof partitionMapMessageSchema>;
