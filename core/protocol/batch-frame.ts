/**
 * Splits the `data` of an inbound BATCH into its messages. Client→server `data` is a run of items, each a
 * u32 big-endian length and that many bytes, with no count prefix (PROTOCOL.md §1.6); a truncated length
 * or body ends the run. The items are views into `data`, not copies.
 */
export function splitInboundBatch(data: Uint8Array): Uint8Array[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const items: Uint8Array[] = [];
  let offset = 0;
  while (data.byteLength - offset >= 4) {
    const length = view.getUint32(offset, false);
    offset += 4;
    if (length > data.byteLength - offset) break;
    items.push(data.subarray(offset, offset + length));
    offset += length;
  }
  return items;
}
