/**
 * GetObjectAttributes.
 */
import { Errors } from '../../errors.js';
import { el, xmlDocument } from '../../http/xml.js';
import { findReadableVersion, versionHeader } from '../../objects/versions.js';
import { bucketOf, header, keyOf, xml, type Handler } from './call.js';
import { httpDate } from '../../dates.js';
import { checkCustomerKey } from '../../objects/encryption.js';
import { readCustomerKey } from './encryption.js';

const ATTRIBUTES = new Set(['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize']);

function intHeader(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw Errors.invalidArgument(`Invalid ${name} header`, name, value);
  return Number(value);
}

export const getObjectAttributes: Handler = async (call) => {
  const bucket = bucketOf(call);
  const wanted = (header(call, 'x-amz-object-attributes') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (wanted.length === 0) {
    throw Errors.invalidArgument(
      'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty',
      'x-amz-object-attributes',
    );
  }
  for (const a of wanted) {
    if (!ATTRIBUTES.has(a)) throw Errors.invalidArgument('Invalid attribute name specified.', 'x-amz-object-attributes', a);
  }
  const customer = readCustomerKey(call);
  const v = await findReadableVersion(bucket, keyOf(call), call.query.get('versionId'), call.method);
  // Attributes of an SSE-C object are the key holder's to see, as its metadata is (HeadObject).
  checkCustomerKey(v.meta.encryption, customer);
  const want = new Set(wanted);
  let body = '';
  if (want.has('ETag')) body += el('ETag', v.etag);
  if (want.has('Checksum') && v.checksum) {
    body += `<Checksum>${el(`Checksum${v.checksum.algorithm}`, v.checksum.value)}${el('ChecksumType', v.checksum.type)}</Checksum>`;
  }
  if (want.has('ObjectParts') && v.data.kind === 'parts') {
    const parts = v.data.parts;
    const maxParts = Math.min(intHeader(header(call, 'x-amz-max-parts'), 'x-amz-max-parts', 1000), 1000);
    const marker = intHeader(header(call, 'x-amz-part-number-marker'), 'x-amz-part-number-marker', 0);
    const after = parts.filter((p) => p.partNumber > marker);
    const page = after.slice(0, maxParts);
    let list = '';
    // As on S3, the part list is only known for objects uploaded with checksums.
    if (v.checksum) {
      for (const p of page) {
        list += `<Part>${el('PartNumber', p.partNumber)}${el('Size', p.size)}${
          p.checksum ? el(`Checksum${p.checksum.algorithm}`, p.checksum.value) : ''
        }</Part>`;
      }
    }
    body +=
      '<ObjectParts>' +
      el('PartsCount', parts.length) +
      el('PartNumberMarker', marker) +
      (page.length ? el('NextPartNumberMarker', page[page.length - 1]!.partNumber) : '') +
      el('MaxParts', maxParts) +
      el('IsTruncated', after.length > page.length) +
      list +
      '</ObjectParts>';
  }
  if (want.has('StorageClass')) body += el('StorageClass', v.storageClass);
  if (want.has('ObjectSize')) body += el('ObjectSize', v.size);
  return xml(xmlDocument('GetObjectAttributesResponse', body), {
    'last-modified': httpDate(v.lastModified),
    'x-amz-version-id': versionHeader(bucket, v),
  });
};
