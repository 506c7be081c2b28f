/**
 * Wire shapes shared by several S3 operations: owners, timestamps, URL encoding of listings.
 */
import { createHash } from 'node:crypto';
import { Errors } from '../../errors.js';
import { el } from '../../http/xml.js';

const canonicalIds = new Map<string, string>();

/** S3 shows owners by a 64-hex canonical user id; ours is derived from the account id. */
export function canonicalUserId(accountId: string): string {
  let id = canonicalIds.get(accountId);
  if (!id) {
    id = createHash('sha256').update(`xregion-canonical-user:${accountId}`).digest('hex');
    canonicalIds.set(accountId, id);
  }
  return id;
}

export function ownerXml(accountId: string, name = 'Owner'): string {
  return `<${name}><ID>${canonicalUserId(accountId)}</ID><DisplayName>${accountId}</DisplayName></${name}>`;
}

export { isoTime } from '../../dates.js';

/** encoding-type=url: keys and prefixes percent-encoded (clients decode with unquote_plus). */
export function listingEncoder(encodingType: string | undefined): (s: string) => string {
  if (encodingType === undefined) return (s) => s;
  if (encodingType !== 'url') {
    throw Errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encodingType);
  }
  return (s) => encodeURIComponent(s).replace(/%2F/g, '/');
}

/** An element whose text goes through the listing encoder. */
export function encodedEl(name: string, value: string | undefined, encode: (s: string) => string): string {
  return value === undefined ? '' : el(name, encode(value));
}
