/**
 * Reading and validating query-protocol parameters against the constraints of the botocore
 * service models (lengths, patterns, ranges, enums), collecting every violation into one
 * ValidationError worded as AWS words it:
 *   "2 validation errors detected: Value 'a b' at 'roleName' failed to satisfy constraint:
 *    Member must satisfy regular expression pattern: [\w+=,.@-]+; Value null at ..."
 */
import { IamError, IamErrors } from '../../iam/errors.js';
import type { Tag } from '../../iam/identity-store.js';

export interface StringShape {
  min?: number;
  max?: number;
  /** The model's pattern, anchored when applied, shown as written in the error. */
  pattern?: string;
}

const NAME = '[\\w+=,.@-]+';

/** String shapes of the IAM and STS models. */
export const SHAPES = {
  userName: { min: 1, max: 64, pattern: NAME },
  existingUserName: { min: 1, max: 128, pattern: NAME },
  roleName: { min: 1, max: 64, pattern: NAME },
  groupName: { min: 1, max: 128, pattern: NAME },
  policyName: { min: 1, max: 128, pattern: NAME },
  path: { min: 1, max: 512, pattern: '(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)' },
  pathPrefix: { min: 1, max: 512, pattern: '\\u002F[\\u0021-\\u007F]*' },
  policyPath: { min: 1, max: 512, pattern: '((/[A-Za-z0-9\\.,\\+@=_-]+)*)/' },
  policyDocument: { min: 1, max: 131072, pattern: '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+' },
  roleDescription: { max: 1000, pattern: '[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*' },
  policyDescription: { max: 1000 },
  arn: { min: 20, max: 2048 },
  accessKeyId: { min: 16, max: 128, pattern: '[\\w]+' },
  marker: { min: 1, max: 320, pattern: '[\\u0020-\\u00FF]+' },
  policyVersionId: { pattern: 'v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?' },
  tagKey: { min: 1, max: 128, pattern: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+' },
  tagValue: { min: 0, max: 256, pattern: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*' },
  roleSessionName: { min: 2, max: 64, pattern: '[\\w+=,.@-]*' },
  externalId: { min: 2, max: 1224, pattern: '[\\w+=,.@:\\/-]*' },
  serialNumber: { min: 9, max: 256, pattern: '[\\w+=/:,.@-]*' },
  tokenCode: { min: 6, max: 6, pattern: '[\\d]*' },
  sourceIdentity: { min: 2, max: 64, pattern: '[\\w+=,.@-]*' },
  stsAccessKeyId: { min: 16, max: 128, pattern: '[\\w]*' },
} satisfies Record<string, StringShape>;

const compiled = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) compiled.set(pattern, (re = new RegExp(`^(?:${pattern})$`, 'u')));
  return re;
}

/** 'RoleName' → 'roleName', 'Tags.member.1.Key' → 'tags.1.member.key': AWS's member paths. */
function memberName(param: string): string {
  return param.charAt(0).toLowerCase() + param.slice(1);
}

export class Params {
  private readonly errors: string[] = [];

  constructor(private readonly values: Map<string, string>) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  raw(name: string): string | undefined {
    return this.values.get(name);
  }

  names(): string[] {
    return [...this.values.keys()];
  }

  private checkString(value: string, member: string, shape: StringShape): void {
    if (shape.min !== undefined && value.length < shape.min) {
      this.errors.push(`Value '${value}' at '${member}' failed to satisfy constraint: Member must have length greater than or equal to ${shape.min}`);
    } else if (shape.max !== undefined && value.length > shape.max) {
      this.errors.push(`Value '${value}' at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${shape.max}`);
    } else if (shape.pattern !== undefined && !regex(shape.pattern).test(value)) {
      this.errors.push(
        `Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${shape.pattern}`,
      );
    }
  }

  private missing(name: string): void {
    this.errors.push(`Value null at '${memberName(name)}' failed to satisfy constraint: Member must not be null`);
  }

  string(name: string, shape: StringShape): string | undefined {
    const v = this.values.get(name);
    if (v !== undefined) this.checkString(v, memberName(name), shape);
    return v;
  }

  /** A required string: '' is returned when absent (the error is already recorded). */
  required(name: string, shape: StringShape): string {
    const v = this.string(name, shape);
    if (v === undefined) this.missing(name);
    return v ?? '';
  }

  int(name: string, range: { min?: number; max?: number }): number | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    const member = memberName(name);
    if (!/^[+-]?\d+$/.test(v.trim())) {
      this.errors.push(`Value '${v}' at '${member}' failed to satisfy constraint: Member must be a number`);
      return undefined;
    }
    const n = Number(v.trim());
    if (range.min !== undefined && n < range.min) {
      this.errors.push(`Value '${n}' at '${member}' failed to satisfy constraint: Member must have value greater than or equal to ${range.min}`);
    } else if (range.max !== undefined && n > range.max) {
      this.errors.push(`Value '${n}' at '${member}' failed to satisfy constraint: Member must have value less than or equal to ${range.max}`);
    }
    return n;
  }

  bool(name: string): boolean | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    const lower = v.toLowerCase();
    if (lower !== 'true' && lower !== 'false') {
      this.errors.push(`Value '${v}' at '${memberName(name)}' failed to satisfy constraint: Member must be a boolean`);
      return undefined;
    }
    return lower === 'true';
  }

  enumValue<T extends string>(name: string, allowed: readonly T[], required = false): T | undefined {
    const v = this.values.get(name);
    if (v === undefined) {
      if (required) this.missing(name);
      return undefined;
    }
    if (!(allowed as readonly string[]).includes(v)) {
      this.errors.push(
        `Value '${v}' at '${memberName(name)}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`,
      );
      return undefined;
    }
    return v as T;
  }

  /** The indices N present as `${prefix}.member.N...`, in order. */
  private indices(prefix: string): number[] {
    const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.member\\.(\\d+)(?:\\.|$)`);
    const found = new Set<number>();
    for (const k of this.values.keys()) {
      const m = re.exec(k);
      if (m) found.add(Number(m[1]));
    }
    return [...found].sort((a, b) => a - b);
  }

  /** A list of strings `${name}.member.N`; undefined when none is given. */
  list(name: string, shape: StringShape, maxItems?: number): string[] | undefined {
    const idx = this.indices(name);
    if (idx.length === 0) return undefined;
    const member = memberName(name);
    const out: string[] = [];
    for (const i of idx) {
      const v = this.values.get(`${name}.member.${i}`);
      if (v === undefined) continue;
      this.checkString(v, `${member}.${i}.member`, shape);
      out.push(v);
    }
    if (maxItems !== undefined && out.length > maxItems) {
      this.errors.push(`Value '[${out.join(', ')}]' at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${maxItems}`);
    }
    return out;
  }

  /** `Tags.member.N.Key` / `.Value`; undefined when none is given. */
  tags(name = 'Tags'): Tag[] | undefined {
    const idx = this.indices(name);
    if (idx.length === 0) return undefined;
    const member = memberName(name);
    const out: Tag[] = [];
    for (const i of idx) {
      const key = this.values.get(`${name}.member.${i}.Key`);
      const value = this.values.get(`${name}.member.${i}.Value`);
      if (key === undefined) this.errors.push(`Value null at '${member}.${i}.member.key' failed to satisfy constraint: Member must not be null`);
      else this.checkString(key, `${member}.${i}.member.key`, SHAPES.tagKey);
      if (value === undefined) this.errors.push(`Value null at '${member}.${i}.member.value' failed to satisfy constraint: Member must not be null`);
      else this.checkString(value, `${member}.${i}.member.value`, SHAPES.tagValue);
      if (key !== undefined && value !== undefined) out.push({ key, value });
    }
    if (out.length > 50) {
      this.errors.push(`Value '${JSON.stringify(out)}' at '${member}' failed to satisfy constraint: Member must have length less than or equal to 50`);
    }
    return out;
  }

  /** Marker and MaxItems of a List operation. */
  paging(): { marker?: string; maxItems: number } {
    const marker = this.string('Marker', SHAPES.marker);
    const maxItems = this.int('MaxItems', { min: 1, max: 1000 }) ?? 100;
    return marker === undefined ? { maxItems } : { marker, maxItems };
  }

  /** Throws the collected ValidationError, if any. */
  done(): void {
    if (this.errors.length === 0) return;
    const n = this.errors.length;
    throw IamErrors.validation(`${n} validation error${n > 1 ? 's' : ''} detected: ${this.errors.join('; ')}`);
  }
}

export interface Page<T> {
  items: T[];
  isTruncated: boolean;
  marker?: string;
}

/**
 * One page of `items`, which are in ascending order of `keyOf`. The marker names the last item
 * returned, so a page stays correct when items before it are added or removed meanwhile.
 */
export function paginate<T>(items: T[], keyOf: (item: T) => string, paging: { marker?: string; maxItems: number }): Page<T> {
  let start = 0;
  if (paging.marker !== undefined) {
    const after = Buffer.from(paging.marker, 'base64url').toString('utf8');
    start = items.findIndex((i) => keyOf(i) > after);
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + paging.maxItems);
  const isTruncated = start + page.length < items.length;
  const result: Page<T> = { items: page, isTruncated };
  if (isTruncated) result.marker = Buffer.from(keyOf(page[page.length - 1]!), 'utf8').toString('base64url');
  return result;
}

/** The sort key of anything listed by name (IAM lists names without regard to case). */
export function nameOrder(item: { name: string }): string {
  return `${item.name.toLowerCase()}\0${item.name}`;
}

/** The sort key of the Nth item of a list kept in its own order. */
export function indexOrder<T>(items: T[]): (item: T) => string {
  const pos = new Map<T, number>();
  items.forEach((item, i) => pos.set(item, i));
  return (item) => String(pos.get(item)!).padStart(8, '0');
}

export function pageXml(page: Page<unknown>): string {
  return `<IsTruncated>${page.isTruncated}</IsTruncated>${page.marker !== undefined ? `<Marker>${page.marker}</Marker>` : ''}`;
}

export { IamError };
