/**
 * Policy glob patterns ('*' any run, '?' one character) compiled to anchored RegExps. Every
 * pattern of a document is compiled once (compile.ts caches per document), so the per-request
 * cost is one RegExp.test.
 */

const SPECIAL = /[\\^$.|+()[\]{}]/;

/**
 * A piece of a pattern. `literal` text comes from a policy variable's value or from an escape
 * (${*}, ${?}, ${$}) and never acts as a wildcard.
 */
export interface PatternPart {
  text: string;
  literal: boolean;
}

export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

function escapeChar(ch: string): string {
  return SPECIAL.test(ch) ? '\\' + ch : ch;
}

/** A plain glob: '*' and '?' match any character, ':' and '/' included. */
export function partsToGlobRegExp(parts: readonly PatternPart[], ignoreCase: boolean): RegExp {
  let src = '^';
  for (const part of parts) {
    for (const ch of part.text) {
      if (!part.literal && ch === '*') src += '[\\s\\S]*';
      else if (!part.literal && ch === '?') src += '[\\s\\S]';
      else src += escapeChar(ch);
    }
  }
  return new RegExp(src + '$', ignoreCase ? 'i' : '');
}

/**
 * An ARN glob as IAM matches Resource and ArnLike: the six colon-separated segments are matched
 * separately, so a '*' inside one of the first five segments does not run across a ':'; a '*'
 * that ends a segment "can expand to match beyond the colon boundaries" (IAM user guide,
 * Resource element), and in the sixth (resource) segment colons are ordinary characters, which
 * S3 object keys rely on.
 */
export function partsToArnRegExp(parts: readonly PatternPart[]): RegExp {
  const flat: Array<[string, boolean]> = [];
  for (const part of parts) for (const ch of part.text) flat.push([ch, part.literal]);
  let src = '^';
  let colons = 0;
  for (let i = 0; i < flat.length; i++) {
    const [ch, literal] = flat[i]!;
    if (ch === ':') colons++;
    if (!literal && ch === '*') {
      const endsSegment = i === flat.length - 1 || flat[i + 1]![0] === ':';
      src += colons >= 5 || endsSegment ? '[\\s\\S]*' : '[^:]*';
    } else if (!literal && ch === '?') {
      src += colons >= 5 ? '[\\s\\S]' : '[^:]';
    } else {
      src += escapeChar(ch);
    }
  }
  return new RegExp(src + '$');
}

/** A matcher for one pattern; exact patterns skip the RegExp. */
export type Matcher = (value: string) => boolean;

const always: Matcher = () => true;

export function globMatcher(pattern: string, ignoreCase: boolean): Matcher {
  if (pattern === '*') return always;
  if (!hasWildcard(pattern)) {
    if (!ignoreCase) return (v) => v === pattern;
    const lower = pattern.toLowerCase();
    return (v) => v.length === lower.length && v.toLowerCase() === lower;
  }
  const re = partsToGlobRegExp([{ text: pattern, literal: false }], ignoreCase);
  return (v) => re.test(v);
}

export function arnMatcher(pattern: string): Matcher {
  if (pattern === '*') return always;
  if (!hasWildcard(pattern)) return (v) => v === pattern;
  const re = partsToArnRegExp([{ text: pattern, literal: false }]);
  return (v) => re.test(v);
}

/** Matcher for parts produced by resolving policy variables. */
export function partsMatcher(parts: readonly PatternPart[], mode: 'glob' | 'arn', ignoreCase: boolean): Matcher {
  if (parts.every((p) => p.literal || !hasWildcard(p.text))) {
    const exact = parts.map((p) => p.text).join('');
    if (!ignoreCase) return (v) => v === exact;
    const lower = exact.toLowerCase();
    return (v) => v.toLowerCase() === lower;
  }
  const re = mode === 'arn' ? partsToArnRegExp(parts) : partsToGlobRegExp(parts, ignoreCase);
  return (v) => re.test(v);
}
