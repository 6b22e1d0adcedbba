/**
 * Strict reading of a JSON body. The HMAC signature covers the exact bytes sent, so the handler must
 * see exactly what those bytes say:
 *   - invalid UTF-8 is refused (Node's decoder would quietly replace it with U+FFFD);
 *   - a key repeated in one object is refused at any depth (JSON.parse keeps the last one, another
 *     parser the first: two readers of one signed body could then act on different values).
 * The duplicate check runs after JSON.parse succeeded, so it only has to find the keys of valid
 * JSON: one pass over the text that skips strings and remembers the keys of each open object.
 */
// ignoreBOM keeps a byte-order mark in the text, so JSON.parse refuses it as before (RFC 8259 §8.1).
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export type StrictJsonResult = { ok: true; value: unknown } | { ok: false; reason: 'utf8' | 'syntax' | 'duplicate'; key?: string };

export function parseStrictJson(raw: Uint8Array): StrictJsonResult {
  let text: string;
  try {
    text = decoder.decode(raw);
  } catch {
    return { ok: false, reason: 'utf8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'syntax' };
  }
  const dup = duplicateKey(text);
  return dup === null ? { ok: true, value } : { ok: false, reason: 'duplicate', key: dup };
}

const QUOTE = 34; // "
const BACKSLASH = 92;
const OPEN_OBJECT = 123; // {
const CLOSE_OBJECT = 125; // }
const OPEN_ARRAY = 91; // [
const CLOSE_ARRAY = 93; // ]
const COLON = 58;

/**
 * The first key that appears twice in one object of `text` (valid JSON), or null. A string is a key
 * when the next significant character after it is a colon. Keys with escapes are decoded before
 * comparing ("a" and "\u0061" are the same key).
 */
export function duplicateKey(text: string): string | null {
  // One entry per open container: a Set of keys for an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      let escaped = false;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) {
          escaped = true;
          i++;
        } else if (d === QUOTE) break;
      }
      const keys = stack[stack.length - 1];
      if (!keys) continue; // inside an array (or a top-level string): not a key
      let j = i + 1;
      while (j < n && text.charCodeAt(j) <= 32) j++;
      if (text.charCodeAt(j) !== COLON) continue; // a value
      const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
      if (keys.has(key)) return key;
      keys.add(key);
    } else if (c === OPEN_OBJECT) stack.push(new Set());
    else if (c === OPEN_ARRAY) stack.push(null);
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) stack.pop();
  }
  return null;
}
