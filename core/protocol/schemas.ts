// Map schemas (an edge extension): a client asks for a map's JSON Schema to refuse non-conforming writes itself,
// offline too. Both wrapped in `payload`, correlated by `requestId`.
import * as z from "./zod.ts";
import { mapNameSchema, optionalField, wireIdSchema } from "./shared.ts";

export const schemaGetMessageSchema = z.object({
  type: z.literal("SCHEMA_GET"),
  payload: z.object({ requestId: wireIdSchema, mapName: mapNameSchema }),
});
export type SchemaGetMessage = z.infer<typeof schemaGetMessageSchema>;

/**
 * The answer of a SCHEMA_GET: the map's schema and its version, no `schema` (version 0) when the map has none, or
 * `error` and `code` (403 without read access to the map, 503 while the schemas cannot be read).
 */
export const schemaRespPayloadSchema = z.object({
  requestId: wireIdSchema,
  mapName: mapNameSchema,
  version: z.number().check(z.int(), z.minimum(0)),
  schema: z.optional(z.unknown()),
  error: optionalField(z.string()),
  code: optionalField(z.number().check(z.int())),
});
export type SchemaRespPayload = z.infer<typeof schemaRespPayloadSchema>;

export const schemaRespMessageSchema = z.object({ type: z.literal("SCHEMA_RESP"), payload: schemaRespPayloadSchema });
export type SchemaRespMessage = z.infer<typeof schemaRespMessageSchema>;
