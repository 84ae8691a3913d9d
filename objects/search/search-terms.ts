/** tantivy's default tokenizer drops tokens longer than this many UTF-8 bytes (PROTOCOL.md §11.4). */
const MAX_TOKEN_BYTES = 40;

const encoder = new TextEncoder();

/** Splits on non-alphanumeric Unicode characters, like tantivy's default tokenizer. */
export function tokenize(text: string): string[] {
  return text.split(/[^\p{L}\p{N}]+/u);
}

/** Lowercases; drops empty tokens and tokens over 40 bytes. No stemming, no stop words. */
export function processTerm(term: string): string | null {
  if (term === "") return null;
  const lower = term.toLowerCase();
  return encoder.encode(lower).length > MAX_TOKEN_BYTES ? null : lower;
}

/** The index terms of a text, in order. */
export function termsOf(text: string): string[] {
  return tokenize(text).flatMap((token) => processTerm(token) ?? []);
}

/** Every string found in the value, recursively through map values and array items (PROTOCOL.md §11.4). */
export function stringLeaves(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const item of value) stringLeaves(item, out);
  else if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    for (const item of Object.values(value)) stringLeaves(item, out);
  }
  return out;
}

/** The indexed document of a record value: its string leaves joined with spaces. */
export function documentText(value: unknown): string {
  return stringLeaves(value).join(" ");
}
