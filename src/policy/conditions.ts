/**
 * Condition operators as IAM defines them (IAM user guide, "Condition operators" and "Set
 * operators for multivalued context keys"):
 * - keys under one operator AND, values of one key OR; keys match without regard to case;
 * - a key the request lacks: ...IfExists → true; a negated operator (StringNotEquals,
 *   NotIpAddress, ArnNotLike ...) → true; any other → false; ForAnyValue → false;
 *   ForAllValues → true;
 * - Null "true" means the key is absent (or empty), "false" that it is present.
 */
import type { ConditionBlock, RequestContext } from './types.js';
import { cidrContains, parseAddress, parseCidr, type Cidr } from './ip.js';
import { arnMatcher, globMatcher, partsMatcher, type Matcher } from './wildcard.js';
import { lookupKey, parseTemplate, partsText, resolveTemplate, type TemplatePart } from './variables.js';

type Family = 'String' | 'StringIgnoreCase' | 'StringLike' | 'Numeric' | 'Date' | 'Bool' | 'Binary' | 'Ip' | 'Arn' | 'Null';
type Cmp = 'eq' | 'lt' | 'le' | 'gt' | 'ge';

export interface ConditionOperator {
  /** As written in the policy: 'ForAnyValue:StringLikeIfExists'. */
  written: string;
  /** Without set prefix and IfExists: 'StringLike'. */
  base: string;
  family: Family;
  cmp: Cmp;
  negated: boolean;
  ifExists: boolean;
  set?: 'any' | 'all';
}

const BASES: Record<string, { family: Family; cmp: Cmp; negated: boolean }> = {
  StringEquals: { family: 'String', cmp: 'eq', negated: false },
  StringNotEquals: { family: 'String', cmp: 'eq', negated: true },
  StringEqualsIgnoreCase: { family: 'StringIgnoreCase', cmp: 'eq', negated: false },
  StringNotEqualsIgnoreCase: { family: 'StringIgnoreCase', cmp: 'eq', negated: true },
  StringLike: { family: 'StringLike', cmp: 'eq', negated: false },
  StringNotLike: { family: 'StringLike', cmp: 'eq', negated: true },
  NumericEquals: { family: 'Numeric', cmp: 'eq', negated: false },
  NumericNotEquals: { family: 'Numeric', cmp: 'eq', negated: true },
  NumericLessThan: { family: 'Numeric', cmp: 'lt', negated: false },
  NumericLessThanEquals: { family: 'Numeric', cmp: 'le', negated: false },
  NumericGreaterThan: { family: 'Numeric', cmp: 'gt', negated: false },
  NumericGreaterThanEquals: { family: 'Numeric', cmp: 'ge', negated: false },
  DateEquals: { family: 'Date', cmp: 'eq', negated: false },
  DateNotEquals: { family: 'Date', cmp: 'eq', negated: true },
  DateLessThan: { family: 'Date', cmp: 'lt', negated: false },
  DateLessThanEquals: { family: 'Date', cmp: 'le', negated: false },
  DateGreaterThan: { family: 'Date', cmp: 'gt', negated: false },
  DateGreaterThanEquals: { family: 'Date', cmp: 'ge', negated: false },
  Bool: { family: 'Bool', cmp: 'eq', negated: false },
  BinaryEquals: { family: 'Binary', cmp: 'eq', negated: false },
  IpAddress: { family: 'Ip', cmp: 'eq', negated: false },
  NotIpAddress: { family: 'Ip', cmp: 'eq', negated: true },
  ArnEquals: { family: 'Arn', cmp: 'eq', negated: false },
  ArnLike: { family: 'Arn', cmp: 'eq', negated: false },
  ArnNotEquals: { family: 'Arn', cmp: 'eq', negated: true },
  ArnNotLike: { family: 'Arn', cmp: 'eq', negated: true },
  Null: { family: 'Null', cmp: 'eq', negated: false },
};

const operatorCache = new Map<string, ConditionOperator | null>();

/** The operator a condition type names, or undefined if IAM does not know it. Names are case-sensitive. */
export function parseConditionOperator(written: string): ConditionOperator | undefined {
  const cached = operatorCache.get(written);
  if (cached !== undefined) return cached ?? undefined;
  let rest = written;
  let set: 'any' | 'all' | undefined;
  if (rest.startsWith('ForAnyValue:')) {
    set = 'any';
    rest = rest.slice('ForAnyValue:'.length);
  } else if (rest.startsWith('ForAllValues:')) {
    set = 'all';
    rest = rest.slice('ForAllValues:'.length);
  }
  let ifExists = false;
  if (rest.endsWith('IfExists')) {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  const base = Object.prototype.hasOwnProperty.call(BASES, rest) ? BASES[rest] : undefined;
  // Null asks whether the key exists, so neither IfExists nor a set qualifier means anything on it.
  const op: ConditionOperator | undefined =
    !base || (base.family === 'Null' && (ifExists || set))
      ? undefined
      : { written, base: rest, family: base.family, cmp: base.cmp, negated: base.negated, ifExists, ...(set ? { set } : {}) };
  if (operatorCache.size < 1000) operatorCache.set(written, op ?? null);
  return op;
}

/** Whether a condition value can be used with the operator (S3 rejects bad IPs when the policy is put). */
export function validConditionValue(op: ConditionOperator, value: string): boolean {
  if (op.family === 'Ip') return value.includes('${') || parseCidr(value) !== undefined;
  return true;
}

// ---- compilation ------------------------------------------------------------------------------

/** A positive comparison of one request value against one policy value. */
type Test = (requestValue: string) => boolean;

interface CompiledValue {
  test?: Test;
  /** Values holding policy variables compile per resolved text. */
  template?: TemplatePart[];
  cache?: Map<string, Test>;
}

export interface CompiledCondition {
  op: ConditionOperator;
  /** lower-cased */
  key: string;
  values: CompiledValue[];
  /** For Null: the policy values, lower-cased. */
  raw: string[];
}

const never: Test = () => false;

function parseNumber(s: string): number {
  const t = s.trim();
  return t === '' ? NaN : Number(t);
}

/** ISO-8601 or seconds since the epoch (aws:EpochTime), as milliseconds. */
export function parseDate(s: string): number {
  const t = s.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}/.test(t)) return NaN;
  return Date.parse(t);
}

function compare(cmp: Cmp, a: number, b: number): boolean {
  switch (cmp) {
    case 'eq':
      return a === b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
  }
}

function buildTest(op: ConditionOperator, policyValue: string, literalMatcher?: Matcher): Test {
  switch (op.family) {
    case 'String':
      return (r) => r === policyValue;
    case 'StringIgnoreCase': {
      const lower = policyValue.toLowerCase();
      return (r) => r.toLowerCase() === lower;
    }
    case 'StringLike':
      return literalMatcher ?? globMatcher(policyValue, false);
    case 'Arn':
      return literalMatcher ?? arnMatcher(policyValue);
    case 'Numeric': {
      const p = parseNumber(policyValue);
      if (Number.isNaN(p)) return never;
      return (r) => compare(op.cmp, parseNumber(r), p);
    }
    case 'Date': {
      const p = parseDate(policyValue);
      if (Number.isNaN(p)) return never;
      return (r) => compare(op.cmp, parseDate(r), p);
    }
    case 'Bool': {
      const lower = policyValue.toLowerCase();
      return (r) => r.toLowerCase() === lower;
    }
    case 'Binary':
      return (r) => r === policyValue;
    case 'Ip': {
      const cidr: Cidr | undefined = parseCidr(policyValue.trim());
      if (!cidr) return never;
      return (r) => {
        const a = parseAddress(r.trim());
        return a !== undefined && cidrContains(cidr, a);
      };
    }
    case 'Null':
      return never;
  }
}

export function compileCondition(op: ConditionOperator, key: string, values: readonly string[], variables: boolean): CompiledCondition {
  const compiled: CompiledValue[] = values.map((v) => {
    const template = variables && op.family !== 'Null' ? parseTemplate(v) : undefined;
    if (template) return { template, cache: new Map() };
    return { test: buildTest(op, v) };
  });
  return { op, key: key.toLowerCase(), values: compiled, raw: values.map((v) => v.toLowerCase()) };
}

const DYNAMIC_CACHE_LIMIT = 256;

function valueTest(op: ConditionOperator, value: CompiledValue, ctx: RequestContext): Test {
  if (value.test) return value.test;
  const parts = resolveTemplate(value.template!, ctx);
  // An unresolvable variable makes the value match nothing.
  if (!parts) return never;
  const text = partsText(parts);
  const cacheKey = parts.map((p) => (p.literal ? '\u0001' : '\u0002') + p.text).join('\u0000');
  let test = value.cache!.get(cacheKey);
  if (!test) {
    const matcher =
      op.family === 'StringLike' ? partsMatcher(parts, 'glob', false) : op.family === 'Arn' ? partsMatcher(parts, 'arn', false) : undefined;
    test = buildTest(op, text, matcher);
    if (value.cache!.size >= DYNAMIC_CACHE_LIMIT) value.cache!.clear();
    value.cache!.set(cacheKey, test);
  }
  return test;
}

/** Whether one request value matches any of the policy values. */
function matchesAny(c: CompiledCondition, requestValue: string, ctx: RequestContext): boolean {
  for (const v of c.values) if (valueTest(c.op, v, ctx)(requestValue)) return true;
  return false;
}

export function evaluateCondition(c: CompiledCondition, ctx: RequestContext): boolean {
  const { op } = c;
  const present = lookupKey(ctx, c.key);
  if (op.family === 'Null') {
    const absent = present === undefined || present.length === 0;
    for (const v of c.raw) {
      if (v === 'true' && absent) return true;
      if (v === 'false' && !absent) return true;
    }
    return false;
  }
  if (present === undefined || present.length === 0) {
    if (op.ifExists) return true;
    if (op.set === 'any') return false;
    if (op.set === 'all') return true;
    return op.negated;
  }
  if (op.set === 'all') {
    // Every request value must pass; for a negated operator a value passes when it matches none.
    for (const r of present) if (matchesAny(c, r, ctx) === op.negated) return false;
    return true;
  }
  if (op.set === 'any') {
    for (const r of present) if (matchesAny(c, r, ctx) !== op.negated) return true;
    return false;
  }
  // Without a set qualifier: positive operators need some request value to match some policy
  // value; negated ones need no request value to match any.
  let matched = false;
  for (const r of present) {
    if (matchesAny(c, r, ctx)) {
      matched = true;
      break;
    }
  }
  return matched !== op.negated;
}

export function compileConditionBlock(block: ConditionBlock, variables: boolean): CompiledCondition[] {
  const out: CompiledCondition[] = [];
  for (const [written, keys] of Object.entries(block)) {
    const op = parseConditionOperator(written);
    if (!op) {
      // An unknown operator can only come from a document built without parsePolicyDocument;
      // a condition we cannot understand must not pass.
      out.push({ op: UNKNOWN, key: '', values: [], raw: [] });
      continue;
    }
    for (const [key, values] of Object.entries(keys)) out.push(compileCondition(op, key, values, variables));
  }
  return out;
}

const UNKNOWN: ConditionOperator = { written: '', base: '', family: 'Null', cmp: 'eq', negated: false, ifExists: false };

export function evaluateConditions(conditions: readonly CompiledCondition[], ctx: RequestContext): boolean {
  for (const c of conditions) {
    if (c.op === UNKNOWN) return false;
    if (!evaluateCondition(c, ctx)) return false;
  }
  return true;
}

const blockCache = new WeakMap<ConditionBlock, { variables: boolean; compiled: CompiledCondition[] }>();

/**
 * Evaluate a whole Condition block against a request. `variables` is whether the document is
 * Version 2012-10-17. The compiled form is cached on the block.
 */
export function conditionsMatch(block: ConditionBlock, ctx: RequestContext, variables = true): boolean {
  let entry = blockCache.get(block);
  if (!entry || entry.variables !== variables) {
    entry = { variables, compiled: compileConditionBlock(block, variables) };
    blockCache.set(block, entry);
  }
  return evaluateConditions(entry.compiled, ctx);
}
