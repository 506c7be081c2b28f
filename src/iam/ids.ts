/**
 * Identifiers and secrets shaped like AWS's: unique ids (AIDA..., AROA..., ANPA..., AGPA...),
 * access key ids (AKIA... long-term, ASIA... temporary), 40-character secret keys and opaque
 * session tokens. All randomness comes from the CSPRNG: key ids and tokens are bearer material.
 */
import crypto from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Buffer | undefined {
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of text) {
    const v = BASE32.indexOf(c);
    if (v < 0) return undefined;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
      value &= (1 << bits) - 1;
    }
  }
  return Buffer.from(bytes);
}

export type UniqueIdPrefix = 'AIDA' | 'AROA' | 'ANPA' | 'AGPA';

/** An IAM unique id: the prefix of its kind and 17 characters, 21 in all like AWS's. */
export function newUniqueId(prefix: UniqueIdPrefix): string {
  return prefix + base32(crypto.randomBytes(11)).slice(0, 17);
}

/**
 * An access key id that carries its account the way AWS's do (since 2019), so that
 * GetAccessKeyInfo answers from the id alone and tools that decode key ids offline agree:
 * base32 after the 4-character prefix; its first 48 bits are a zero bit, the 40-bit account
 * number and 7 random bits.
 */
export function newAccessKeyId(prefix: 'AKIA' | 'ASIA', accountId: string): string {
  const bytes = crypto.randomBytes(10);
  const head = Number(accountId) * 128 + (bytes[0]! & 0x7f);
  bytes.writeUIntBE(head, 0, 6);
  return prefix + base32(bytes);
}

/** The account encoded in an AKIA/ASIA key id of the current format; undefined for others. */
export function accountOfAccessKeyId(accessKeyId: string): string | undefined {
  if (!/^(AKIA|ASIA)[A-Z2-7]{16}$/.test(accessKeyId)) return undefined;
  const bytes = unbase32(accessKeyId.slice(4));
  if (!bytes || bytes.length < 6) return undefined;
  // The top bit is not part of the account (AWS's own keys have it set or not).
  const head = bytes.readUIntBE(0, 6) % 2 ** 47;
  const account = Math.floor(head / 128);
  return account < 1e12 ? String(account).padStart(12, '0') : undefined;
}

/** A secret access key: 40 characters of base64, as AWS issues them. */
export function newSecretAccessKey(): string {
  return crypto.randomBytes(30).toString('base64');
}

/** A session token: long, opaque and unguessable (AWS's are several hundred characters). */
export function newSessionToken(): string {
  return crypto.randomBytes(264).toString('base64');
}
