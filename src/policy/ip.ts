/**
 * IPv4/IPv6 addresses and CIDR blocks for the IpAddress/NotIpAddress operators and for the
 * "is this source range narrow enough to be non-public" test. Addresses are held as eight
 * 16-bit groups; IPv4 (and IPv4-mapped IPv6, which is how a dual-stack socket reports an IPv4
 * peer) lives in the last two groups with `v4` set, so a v4 block never matches a v6 address.
 */

export interface Address {
  v4: boolean;
  groups: number[];
}

export interface Cidr extends Address {
  prefix: number;
}

function parseV4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    bytes.push(n);
  }
  return [(bytes[0]! << 8) | bytes[1]!, (bytes[2]! << 8) | bytes[3]!];
}

function parseV6(text: string): number[] | undefined {
  let head = text;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.') && lastColon >= 0) {
    const v4 = parseV4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = v4;
    // Keep a '::' that directly precedes the dotted quad; drop a lone separating ':'.
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const want = 8 - tail.length;
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parseGroups(halves[0]!);
  if (!left) return undefined;
  if (halves.length === 1) {
    return left.length === want ? [...left, ...tail] : undefined;
  }
  const right = parseGroups(halves[1]!);
  if (!right) return undefined;
  const missing = want - left.length - right.length;
  if (missing < 1) return undefined;
  return [...left, ...new Array<number>(missing).fill(0), ...right, ...tail];
}

export function parseAddress(text: string): Address | undefined {
  if (text.includes(':')) {
    const groups = parseV6(text);
    if (!groups) return undefined;
    const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
    return { v4: mapped, groups: mapped ? [0, 0, 0, 0, 0, 0xffff, groups[6]!, groups[7]!] : groups };
  }
  const v4 = parseV4(text);
  return v4 ? { v4: true, groups: [0, 0, 0, 0, 0, 0xffff, v4[0]!, v4[1]!] } : undefined;
}

/** "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const addr = parseAddress(addrText);
  if (!addr) return undefined;
  const v6Notation = addrText.includes(':');
  const max = v6Notation ? 128 : 32;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > max) return undefined;
  }
  if (!v6Notation) return { ...addr, prefix };
  // An IPv4-mapped block written in IPv6 notation: a /104 is the IPv4 /8. One wider than the
  // mapped range is an IPv6 block and, like any, does not cover IPv4 callers.
  if (addr.v4 && prefix >= 96) return { ...addr, prefix: prefix - 96 };
  return { v4: false, groups: addr.groups, prefix };
}

export function cidrContains(cidr: Cidr, addr: Address): boolean {
  if (cidr.v4 !== addr.v4) return false;
  let bits = cidr.v4 ? cidr.prefix + 96 : cidr.prefix;
  for (let i = 0; i < 8 && bits > 0; i++) {
    const take = bits >= 16 ? 16 : bits;
    const mask = (0xffff << (16 - take)) & 0xffff;
    if ((cidr.groups[i]! & mask) !== (addr.groups[i]! & mask)) return false;
    bits -= take;
  }
  return true;
}
