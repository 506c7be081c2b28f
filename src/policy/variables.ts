/**
 * Policy variables (${aws:username}, ${s3:prefix}, ${aws:PrincipalTag/team, 'default'}) and the
 * escapes ${*} ${?} ${$}. Only documents of Version 2012-10-17 substitute them; in older ones the
 * text is literal (IAM user guide, "Policy variables": "you must include the Version element and
 * set it to 2012-10-17").
 */
import type { RequestContext } from './types.js';
import type { PatternPart } from './wildcard.js';

export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'literal'; text: string }
  | { kind: 'variable'; key: string; fallback?: string };

const ESCAPES: Record<string, string> = { '*': '*', '?': '?', $: '$' };

/** The template of a value, or undefined when the value has no variable or escape in it. */
export function parseTemplate(value: string): TemplatePart[] | undefined {
  if (!value.includes('${')) return undefined;
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  let found = false;
  while (i < value.length) {
    const start = value.indexOf('${', i);
    const end = start < 0 ? -1 : value.indexOf('}', start + 2);
    if (start < 0 || end < 0) {
      text += value.slice(i);
      break;
    }
    text += value.slice(i, start);
    const body = value.slice(start + 2, end);
    const escape = ESCAPES[body];
    const variable = escape === undefined ? parseVariable(body) : undefined;
    if (escape === undefined && !variable) {
      // Not a variable reference: keep the characters as they are.
      text += value.slice(start, end + 1);
    } else {
      found = true;
      if (text) parts.push({ kind: 'text', text });
      text = '';
      parts.push(escape !== undefined ? { kind: 'literal', text: escape } : variable!);
    }
    i = end + 1;
  }
  if (text) parts.push({ kind: 'text', text });
  return found ? parts : undefined;
}

function parseVariable(body: string): TemplatePart | undefined {
  const comma = body.indexOf(',');
  const key = (comma < 0 ? body : body.slice(0, comma)).trim();
  if (!/^[A-Za-z0-9.-]+:[^\s,'${}]+$/.test(key)) return undefined;
  if (comma < 0) return { kind: 'variable', key: key.toLowerCase() };
  const m = /^\s*'([^']*)'\s*$/.exec(body.slice(comma + 1));
  return m ? { kind: 'variable', key: key.toLowerCase(), fallback: m[1]! } : undefined;
}

/**
 * The single value a key has for this request, for substitution: from the request's condition
 * values, else derived from the principal. Multi-valued keys do not substitute.
 */
export function variableValue(ctx: RequestContext, key: string): string | undefined {
  const values = lookupKey(ctx, key);
  return values && values.length === 1 ? values[0] : undefined;
}

/**
 * A condition key's values for this request. The caller's context wins; the principal-derived
 * global keys are filled in here so that no caller has to remember them.
 */
export function lookupKey(ctx: RequestContext, key: string): string[] | undefined {
  const given = ctx.operationConditions?.[key] ?? ctx.conditions[key];
  if (given !== undefined) return given;
  const p = ctx.principal;
  if (p.kind === 'anonymous') return key === 'aws:principaltype' ? ['Anonymous'] : undefined;
  switch (key) {
    case 'aws:username':
      return p.kind === 'user' && p.username ? [p.username] : undefined;
    case 'aws:userid':
      return p.userId ? [p.userId] : undefined;
    case 'aws:principalaccount':
      return p.accountId ? [p.accountId] : undefined;
    case 'aws:principalarn':
      return p.kind !== 'service' && p.principalArn ? [p.principalArn] : undefined;
    case 'aws:principaltype':
      return PRINCIPAL_TYPES[p.kind];
    case 'aws:principalservicename':
      return p.kind === 'service' ? [p.arn] : undefined;
    case 'aws:principalisawsservice':
      return [p.kind === 'service' ? 'true' : 'false'];
    default:
      return undefined;
  }
}

const PRINCIPAL_TYPES: Record<string, string[] | undefined> = {
  root: ['Account'],
  user: ['User'],
  'assumed-role': ['AssumedRole'],
};

/** The template with its variables replaced, or undefined if one cannot be resolved. */
export function resolveTemplate(parts: readonly TemplatePart[], ctx: RequestContext): PatternPart[] | undefined {
  const out: PatternPart[] = [];
  for (const part of parts) {
    if (part.kind === 'text') out.push({ text: part.text, literal: false });
    else if (part.kind === 'literal') out.push({ text: part.text, literal: true });
    else {
      const value = variableValue(ctx, part.key) ?? part.fallback;
      if (value === undefined) return undefined;
      out.push({ text: value, literal: true });
    }
  }
  return out;
}

export function partsText(parts: readonly PatternPart[]): string {
  let s = '';
  for (const p of parts) s += p.text;
  return s;
}
