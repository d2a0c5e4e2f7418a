// IPv4/IPv6 addresses and CIDR ranges as big integers: enough to canonicalise pod ranges, tell
// whether two ranges overlap and whether a range contains an address. Pure.

import { isIP } from 'node:net';

export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** Network address as an integer (host bits zero). */
  network: bigint;
  prefix: number;
  /** Canonical text, e.g. `10.244.1.0/24`, `fd00:10::/64`. */
  text: string;
}

export class CidrError extends Error {
  readonly value: string;
  constructor(value: string, problem: string) {
    super(`${JSON.stringify(value)} ${problem}`);
    this.name = 'CidrError';
    this.value = value;
  }
}

const bits = (f: Family): number => (f === 4 ? 32 : 128);

/** An IP address as family and integer; throws CidrError for anything else. */
export function parseIp(text: string): { family: Family; value: bigint } {
  const family = isIP(text);
  if (family === 4) {
    return {
      family: 4,
      value: text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n),
    };
  }
  if (family === 6 && !text.includes('%')) return { family: 6, value: parseIpv6(text) };
  throw new CidrError(text, 'is not an IP address');
}

function parseIpv6(text: string): bigint {
  // isIP has checked the syntax. An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  let s = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = parseIp(v4[1]!).value;
    s = `${s.slice(0, v4.index)}${((n >> 16n) & 0xffffn).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const halves = s.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const zeros = halves.length > 1 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<string>(zeros).fill('0'), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

export function formatIp(family: Family, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952: compress the longest run (length >= 2) of zero groups, the first one on ties.
  let best = { start: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len && j - i >= 2) best = { start: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.len).join(':')}`;
}

/** Parses `a.b.c.d/n` or `x::/n`; a bare address is a /32 or /128. Refuses host bits set. */
export function parseCidr(text: string): Cidr {
  if (typeof text !== 'string' || text.trim() !== text || text === '')
    throw new CidrError(String(text), 'is not a CIDR');
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const { family, value } = parseIp(addr);
  let prefix = bits(family);
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits(family)) {
      throw new CidrError(text, `has an invalid prefix length (0-${bits(family)})`);
    }
    prefix = Number(p);
  }
  const hostBits = BigInt(bits(family) - prefix);
  const network = (value >> hostBits) << hostBits;
  if (network !== value) {
    throw new CidrError(text, `has host bits set (the network is ${formatIp(family, network)}/${prefix})`);
  }
  return { family, network, prefix, text: `${formatIp(family, network)}/${prefix}` };
}

const lastOf = (c: Cidr): bigint => c.network | ((1n << BigInt(bits(c.family) - c.prefix)) - 1n);

/** True when the two ranges share at least one address (one contains the other). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.network <= lastOf(b) && b.network <= lastOf(a);
}

/** True when `ip` lies in `cidr`. */
export function cidrContains(cidr: Cidr, ip: string): boolean {
  const { family, value } = parseIp(ip);
  return family === cidr.family && value >= cidr.network && value <= lastOf(cidr);
}
