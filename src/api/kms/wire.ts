/**
 * The KMS JSON 1.1 wire shapes: reading a request's members with the service's validation
 * wording ("1 validation error detected: Value 'x' at 'keyId' failed to satisfy constraint:
 * ..."), and rendering key metadata, dates and blobs the way KMS sends them.
 */
import { KmsError, KmsErrors } from '../../crypto/kms-errors.js';
import type { KeyInfo } from '../../crypto/kms.js';
import type { Tag } from '../../crypto/kms-store.js';

export type JsonObject = Record<string, unknown>;

interface StringRule {
  required?: boolean;
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** The pattern as the service quotes it in the error. */
  patternText?: string;
  enum?: readonly string[];
  /** The value is secret: the error names the member but not its value. */
  sensitive?: boolean;
}

interface NumberRule {
  required?: boolean;
  min?: number;
  max?: number;
}

/** A member whose JSON type is wrong: the JSON protocol's deserialization failure. */
function serialization(message: string): KmsError {
  return new KmsError('SerializationException', message);
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/**
 * One request's members. Constraint violations accumulate, as the service reports all of them
 * in one ValidationException; `done()` throws it. Type mismatches throw at once.
 */
export class Params {
  private readonly problems: string[] = [];

  constructor(private readonly body: JsonObject) {}

  has(name: string): boolean {
    return this.body[name] !== undefined && this.body[name] !== null;
  }

  private violation(name: string, value: string | null | undefined, constraint: string): void {
    const shown = value === undefined ? 'Value' : value === null ? 'Value null' : `Value '${value}'`;
    this.problems.push(`${shown} at '${lowerFirst(name)}' failed to satisfy constraint: ${constraint}`);
  }

  string(name: string, rule: StringRule & { required: true }): string;
  string(name: string, rule?: StringRule): string | undefined;
  string(name: string, rule: StringRule = {}): string | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) {
      if (rule.required) this.violation(name, null, 'Member must not be null');
      return rule.required ? '' : undefined;
    }
    if (typeof v !== 'string') throw serialization(`${name} must be a string`);
    this.checkString(name, v, rule);
    return v;
  }

  /** Constraint checks for a string found anywhere (a member, a list item, a map entry). */
  checkString(path: string, v: string, rule: StringRule): void {
    const shown = rule.sensitive ? undefined : v;
    if (rule.min !== undefined && v.length < rule.min) this.violation(path, shown, `Member must have length greater than or equal to ${rule.min}`);
    if (rule.max !== undefined && v.length > rule.max) this.violation(path, shown, `Member must have length less than or equal to ${rule.max}`);
    if (rule.pattern && !rule.pattern.test(v)) {
      this.violation(path, shown, `Member must satisfy regular expression pattern: ${rule.patternText ?? rule.pattern.source}`);
    }
    if (rule.enum && !rule.enum.includes(v)) this.violation(path, shown, `Member must satisfy enum value set: [${rule.enum.join(', ')}]`);
  }

  integer(name: string, rule: NumberRule = {}): number | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) {
      if (rule.required) this.violation(name, null, 'Member must not be null');
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) throw serialization(`${name} must be an integer`);
    if (rule.min !== undefined && v < rule.min) this.violation(name, String(v), `Member must have value greater than or equal to ${rule.min}`);
    if (rule.max !== undefined && v > rule.max) this.violation(name, String(v), `Member must have value less than or equal to ${rule.max}`);
    return v;
  }

  boolean(name: string): boolean | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw serialization(`${name} must be a boolean`);
    return v;
  }

  /** A base64 blob member; its value is never quoted in errors. */
  blob(name: string, rule: { required?: boolean; min?: number; max?: number } = {}): Buffer | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) {
      if (rule.required) this.violation(name, null, 'Member must not be null');
      return undefined;
    }
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 === 1) {
      throw serialization(`${name} must be base64-encoded binary data`);
    }
    const b = Buffer.from(v, 'base64');
    if (rule.min !== undefined && b.length < rule.min) this.violation(name, undefined, `Member must have length greater than or equal to ${rule.min}`);
    if (rule.max !== undefined && b.length > rule.max) this.violation(name, undefined, `Member must have length less than or equal to ${rule.max}`);
    return b;
  }

  /** EncryptionContext-style maps of string to string. */
  stringMap(name: string): Record<string, string> {
    const v = this.body[name];
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw serialization(`${name} must be a map of strings`);
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v as JsonObject)) {
      if (typeof val !== 'string') throw serialization(`${name} must be a map of strings`);
      out[k] = val;
    }
    return out;
  }

  stringList(name: string, item: StringRule = {}): string[] | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw serialization(`${name} must be a list`);
    return v.map((s, i) => {
      if (typeof s !== 'string') throw serialization(`${name} must be a list of strings`);
      this.checkString(`${lowerFirst(name)}.${i + 1}.member`, s, item);
      return s;
    });
  }

  /** Tags: [{TagKey, TagValue}] with KMS's per-member constraints. */
  tags(name: string, required = false): Tag[] | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) {
      if (required) this.violation(name, null, 'Member must not be null');
      return undefined;
    }
    if (!Array.isArray(v)) throw serialization(`${name} must be a list`);
    return v.map((t, i) => {
      if (typeof t !== 'object' || t === null || Array.isArray(t)) throw serialization(`${name} must be a list of tags`);
      const { TagKey: key, TagValue: value } = t as JsonObject;
      const base = `${lowerFirst(name)}.${i + 1}.member`;
      if (key === undefined || key === null) this.violation(`${base}.tagKey`, null, 'Member must not be null');
      else if (typeof key !== 'string') throw serialization('TagKey must be a string');
      else this.checkString(`${base}.tagKey`, key, { min: 1, max: 128 });
      if (value === undefined || value === null) this.violation(`${base}.tagValue`, null, 'Member must not be null');
      else if (typeof value !== 'string') throw serialization('TagValue must be a string');
      else this.checkString(`${base}.tagValue`, value, { min: 0, max: 256 });
      return { key: typeof key === 'string' ? key : '', value: typeof value === 'string' ? value : '' };
    });
  }

  /** Throws the accumulated ValidationException, if any. */
  done(): void {
    const n = this.problems.length;
    if (n === 0) return;
    throw KmsErrors.validation(`${n} validation error${n === 1 ? '' : 's'} detected: ${this.problems.join('; ')}`);
  }
}

export const KEY_ID_RULE = { required: true, min: 1, max: 2048 } as const;

/** KMS sends dates as epoch seconds (JSON numbers with a fraction). */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}

export function keyMetadata(k: KeyInfo): JsonObject {
  const m: JsonObject = {
    AWSAccountId: k.accountId,
    KeyId: k.keyId,
    Arn: k.arn,
    CreationDate: epochSeconds(k.createdAt),
    Enabled: k.state === 'Enabled',
    Description: k.description,
    KeyUsage: k.keyUsage,
    KeyState: k.state,
  };
  if (k.deletionDate !== null) m.DeletionDate = epochSeconds(k.deletionDate);
  m.Origin = k.origin;
  m.KeyManager = k.manager;
  m.CustomerMasterKeySpec = k.keySpec;
  m.KeySpec = k.keySpec;
  m.EncryptionAlgorithms = ['SYMMETRIC_DEFAULT'];
  m.MultiRegion = false;
  return m;
}

export function b64(b: Buffer): string {
  return b.toString('base64');
}

/** Opaque pagination markers: the last item's sort key. */
export function encodeMarker(after: string): string {
  return Buffer.from(`m1:${after}`, 'utf8').toString('base64url');
}

export function decodeMarker(marker: string | undefined): string {
  if (marker === undefined) return '';
  const text = Buffer.from(marker, 'base64url').toString('utf8');
  if (!text.startsWith('m1:') || Buffer.from(text, 'utf8').toString('base64url') !== marker) throw KmsErrors.invalidMarker();
  return text.slice(3);
}
