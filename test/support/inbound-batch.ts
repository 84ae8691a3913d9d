// Builds an inbound BATCH message (PROTOCOL.md Part B §1.6): `data` is each item as a u32 big-endian length and its
// bytes, with no count prefix.
export function inboundBatch(items: readonly Uint8Array[]): { type: "BATCH"; count: number; data: Uint8Array } {
  const data = new Uint8Array(items.reduce((sum, item) => sum + 4 + item.byteLength, 0));
  const view = new DataView(data.buffer);
  let offset = 0;
  for (const item of items) {
    view.setUint32(offset, item.byteLength, false);
    data.set(item, offset + 4);
    offset += 4 + item.byteLength;
  }
  return { type: "BATCH", count: items.length, data };
}
