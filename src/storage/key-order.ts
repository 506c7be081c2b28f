/**
 * S3 orders keys by their UTF-8 bytes. UTF-8 byte order equals Unicode code point order, which
 * differs from JavaScript's UTF-16 string order for characters above U+E000 against astral ones.
 * Everything that compares keys in JS goes through here; SQLite compares the UTF-8 bytes itself.
 */
import { S3Error } from '../errors.js';

/** Maps a UTF-16 code unit so that unit order equals code point order at a first difference. */
function fixup(u: number): number {
  if (u >= 0xe000) return u - 0x800;
  if (u >= 0xd800) return u + 0x2000;
  return u;
}

export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixup(x) - fixup(y);
  }
  return a.length - b.length;
}

/**
 * The smallest string greater than every string that starts with `prefix`, or null when no
 * such string exists (a prefix made only of U+10FFFF). Used to bound index range scans and to
 * seek past a common prefix in one step.
 */
export function prefixUpperBound(prefix: string): string | null {
  const cps = Array.from(prefix);
  while (cps.length > 0) {
    const last = cps.pop()!.codePointAt(0)!;
    let next = last + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
    if (next <= 0x10ffff) return cps.join('') + String.fromCodePoint(next);
  }
  return null;
}

/** S3 limits keys to 1024 bytes of UTF-8. */
export function checkKeyLength(key: string): void {
  const size = Buffer.byteLength(key, 'utf8');
  if (size > 1024) throw new S3Error('KeyTooLongError', 400, 'Your key is too long', { Size: size, MaxSizeAllowed: 1024 });
}
