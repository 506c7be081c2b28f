import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Errors } from '../errors.js';

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Escapes text for an XML element or attribute. Control characters cannot appear literally in
 * XML 1.0, and a literal carriage return would be read back as a newline (XML end-of-line
 * normalisation): AWS writes them as character references, so we do the same.
 */
export function esc(value: string | number | bigint | boolean): string {
  const s = String(value);
  // Fast path: most keys and values need no escaping at all.
  if (!/[&<>"'\u0000-\u0008\u000b-\u001f]/.test(s)) return s;
  return s.replace(/[&<>"']|[\u0000-\u0008\u000b-\u001f]/g, (c) =>
    ESCAPES[c] ?? `&#x${c.charCodeAt(0).toString(16)};`,
  );
}

/** `<name>value</name>`, or nothing when the value is absent. */
export function el(name: string, value: string | number | bigint | boolean | undefined | null): string {
  if (value === undefined || value === null) return '';
  return `<${name}>${esc(value)}</${name}>`;
}

/** A whole document with the XML declaration and, when given, the namespace on the root. */
export function xmlDocument(root: string, inner: string, ns: string | null = S3_NS): string {
  const open = ns ? `<${root} xmlns="${ns}">` : `<${root}>`;
  return `${XML_DECL}${open}${inner}</${root}>`;
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

/**
 * XML's own entity decoding: the five predefined entities and numeric character references
 * (clients send a newline in a key as &#xA;). Anything else is not XML: MalformedXML.
 */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);|&/g, (_m, ref: string | undefined) => {
    if (ref === undefined) throw Errors.malformedXML();
    if (ref[0] === '#') {
      const cp = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!(cp >= 0 && cp <= 0x10ffff) || (cp >= 0xd800 && cp <= 0xdfff)) throw Errors.malformedXML();
      return String.fromCodePoint(cp);
    }
    const v = PREDEFINED[ref];
    if (v === undefined) throw Errors.malformedXML();
    return v;
  });
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  // The parser's entity handling knows only the named entities; ours is XML's (above).
  processEntities: false,
  htmlEntities: false,
  tagValueProcessor: (_name: string, value: string) => decodeEntities(value),
  isArray: () => false,
});

export type XmlNode = string | { [name: string]: XmlNode | XmlNode[] };

/**
 * Parses a request body. Anything that is not well-formed XML with the expected root element
 * is AWS's MalformedXML, never a 500.
 */
export function parseXmlBody(body: Buffer, expectedRoot: string): Record<string, XmlNode | XmlNode[]> {
  const text = body.toString('utf8');
  if (text.trim() === '' || XMLValidator.validate(text) !== true) throw Errors.malformedXML();
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text) as Record<string, unknown>;
  } catch {
    throw Errors.malformedXML();
  }
  const root = doc[expectedRoot];
  if (root === undefined) throw Errors.malformedXML();
  if (root === '') return {};
  if (typeof root !== 'object' || root === null) throw Errors.malformedXML();
  return root as Record<string, XmlNode | XmlNode[]>;
}

/** Children of an element that may repeat: always an array. */
export function children(node: unknown, name: string): XmlNode[] {
  if (node === undefined || node === null || typeof node !== 'object') return [];
  const v = (node as Record<string, unknown>)[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]) as XmlNode[];
}

/** Text of a single child element, or undefined when absent. Repeated or nested → MalformedXML. */
export function text(node: unknown, name: string): string | undefined {
  if (node === undefined || node === null || typeof node !== 'object') return undefined;
  const v = (node as Record<string, unknown>)[name];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  // An element present but empty (<Prefix/>) parses as ''.
  throw Errors.malformedXML();
}
