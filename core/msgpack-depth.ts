/**
 * What a pre-scan of raw msgpack found: the value ends at `end` and nests `depth` levels deep (open non-empty
 * containers; a scalar is depth 0, `{a:1}` depth 1, `[]` and `{}` depth 0), or why it stopped.
 */
export type DepthScan =
  | { ok: true; depth: number; end: number }
  | { ok: false; problem: "too-deep" | "truncated" | "reserved-byte"; offset: number };

/**
 * Measures the nesting depth of the first msgpack value in `bytes` without decoding it and without recursion
 * (the reason this exists: a frame nested 100,000 levels deep must not reach a recursive decoder). Stops at the
 * first container that would open level `maxDepth + 1`. Strings, binaries and extensions are skipped by their
 * length; trailing bytes after the value are not looked at (the decoder rejects them).
 */
export function scanMsgpackDepth(bytes: Uint8Array, maxDepth: number): DepthScan {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // remaining[i]: values still to read in the i-th open container (a map counts its keys and values).
  const remaining: number[] = [];
  const head: Head = { container: false, count: 0, next: 0 };
  let offset = 0;
  let deepest = 0;
  for (;;) {
    const at = offset;
    const read = readHead(view, offset, head);
    if (read !== READ_OK) return { ok: false, problem: read === READ_RESERVED ? "reserved-byte" : "truncated", offset: at };
    const top = remaining.length - 1;
    if (top >= 0) remaining[top] = (remaining[top] ?? 1) - 1;
    if (head.container) {
      offset = head.next;
      if (head.count > 0) {
        if (remaining.length >= maxDepth) return { ok: false, problem: "too-deep", offset: at };
        remaining.push(head.count);
        deepest = Math.max(deepest, remaining.length);
      }
    } else {
      offset = head.next + head.count;
      if (offset > bytes.byteLength) return { ok: false, problem: "truncated", offset: at };
    }
    while (remaining.length > 0 && remaining[remaining.length - 1] === 0) remaining.pop();
    if (remaining.length === 0) return { ok: true, depth: deepest, end: offset };
  }
}

const READ_OK = 0;
const READ_TRUNCATED = 1;
const READ_RESERVED = 2;
type Read = typeof READ_OK | typeof READ_TRUNCATED | typeof READ_RESERVED;

/**
 * One value's header, filled in place (one object per scan, not one per value): a container and how many values it
 * holds, or a scalar and how many body bytes follow its header; `next` is the offset after the header.
 */
interface Head {
  container: boolean;
  count: number;
  next: number;
}

/** Reads the header at `offset` into `head`. */
function readHead(view: DataView, offset: number, head: Head): Read {
  if (offset >= view.byteLength) return READ_TRUNCATED;
  const byte = view.getUint8(offset);
  const next = offset + 1;
  if (byte <= 0x7f || byte >= 0xe0) return scalar(head, 0, next); // positive and negative fixint
  if (byte <= 0x8f) return container(head, (byte & 0x0f) * 2, next); // fixmap
  if (byte <= 0x9f) return container(head, byte & 0x0f, next); // fixarray
  if (byte <= 0xbf) return scalar(head, byte & 0x1f, next); // fixstr
  switch (byte) {
    case 0xc0: // nil
    case 0xc2: // false
    case 0xc3: // true
      return scalar(head, 0, next);
    case 0xc1:
      return READ_RESERVED;
    case 0xc4: // bin 8
    case 0xd9: // str 8
      return sized(view, next, 1, 0, head);
    case 0xc5: // bin 16
    case 0xda: // str 16
      return sized(view, next, 2, 0, head);
    case 0xc6: // bin 32
    case 0xdb: // str 32
      return sized(view, next, 4, 0, head);
    case 0xc7: // ext 8: length, type byte, data
      return sized(view, next, 1, 1, head);
    case 0xc8: // ext 16
      return sized(view, next, 2, 1, head);
    case 0xc9: // ext 32
      return sized(view, next, 4, 1, head);
    case 0xca: // float 32
      return scalar(head, 4, next);
    case 0xcb: // float 64
      return scalar(head, 8, next);
    case 0xcc: // uint 8
    case 0xd0: // int 8
      return scalar(head, 1, next);
    case 0xcd: // uint 16
    case 0xd1: // int 16
      return scalar(head, 2, next);
    case 0xce: // uint 32
    case 0xd2: // int 32
      return scalar(head, 4, next);
    case 0xcf: // uint 64
    case 0xd3: // int 64
      return scalar(head, 8, next);
    case 0xd4: // fixext 1: type byte and 1 data byte
      return scalar(head, 2, next);
    case 0xd5: // fixext 2
      return scalar(head, 3, next);
    case 0xd6: // fixext 4
      return scalar(head, 5, next);
    case 0xd7: // fixext 8
      return scalar(head, 9, next);
    case 0xd8: // fixext 16
      return scalar(head, 17, next);
    case 0xdc: // array 16
      return counted(view, next, 2, 1, head);
    case 0xdd: // array 32
      return counted(view, next, 4, 1, head);
    case 0xde: // map 16
      return counted(view, next, 2, 2, head);
    default: // 0xdf map 32
      return counted(view, next, 4, 2, head);
  }
}

function scalar(head: Head, bodyBytes: number, next: number): Read {
  head.container = false;
  head.count = bodyBytes;
  head.next = next;
  return READ_OK;
}

function container(head: Head, values: number, next: number): Read {
  head.container = true;
  head.count = values;
  head.next = next;
  return READ_OK;
}

/** A length-prefixed scalar (str, bin, ext): the length field of `width` bytes, then `extra` bytes (ext's type). */
function sized(view: DataView, offset: number, width: 1 | 2 | 4, extra: number, head: Head): Read {
  const length = readLength(view, offset, width);
  return length === undefined ? READ_TRUNCATED : scalar(head, length + extra, offset + width);
}

/** An array or map with a count field of `width` bytes; a map holds two values per entry. */
function counted(view: DataView, offset: number, width: 2 | 4, perEntry: 1 | 2, head: Head): Read {
  const count = readLength(view, offset, width);
  return count === undefined ? READ_TRUNCATED : container(head, count * perEntry, offset + width);
}

function readLength(view: DataView, offset: number, width: 1 | 2 | 4): number | undefined {
  if (offset + width > view.byteLength) return undefined;
  if (width === 1) return view.getUint8(offset);
  if (width === 2) return view.getUint16(offset, false);
  return view.getUint32(offset, false);
}
