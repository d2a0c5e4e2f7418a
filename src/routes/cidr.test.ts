import { describe, expect, it } from 'vitest';
import { CidrError, cidrContains, cidrsOverlap, formatIp, parseCidr, parseIp } from './cidr.ts';

describe('parseCidr', () => {
  const good: [string, string][] = [
    ['10.244.1.0/24', '10.244.1.0/24'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['10.0.0.5', '10.0.0.5/32'],
    ['fd00:10:0:0::/64', 'fd00:10::/64'],
    ['FD00::1', 'fd00::1/128'],
    ['2001:db8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128'],
    ['::ffff:10.0.0.0/120', '::ffff:a00:0/120'],
    ['::/0', '::/0'],
  ];
  for (const [input, canonical] of good) {
    it(`reads ${input} as ${canonical}`, () => {
      expect(parseCidr(input).text).toBe(canonical);
    });
  }
  const bad: [string, RegExp][] = [
    ['10.244.1.5/24', /host bits set \(the network is 10\.244\.1\.0\/24\)/],
    ['10.244.1.0/33', /invalid prefix length \(0-32\)/],
    ['10.244.1.0/', /invalid prefix/],
    ['10.244.1.0/-1', /invalid prefix/],
    ['fd00::/129', /0-128/],
    ['10.244.1/24', /not an IP address/],
    ['node-a', /not an IP address/],
    [' 10.0.0.0/8', /not a CIDR/],
    ['', /not a CIDR/],
    ['fe80::1%eth0', /not an IP address/],
  ];
  for (const [input, re] of bad) {
    it(`refuses ${JSON.stringify(input)}, naming it`, () => {
      expect(() => parseCidr(input)).toThrow(CidrError);
      expect(() => parseCidr(input)).toThrow(re);
    });
  }
});

describe('cidrsOverlap', () => {
  const cases: [string, string, boolean][] = [
    ['10.244.0.0/16', '10.244.1.0/24', true],
    ['10.244.1.0/24', '10.244.0.0/16', true],
    ['10.244.1.0/24', '10.244.1.0/24', true],
    ['10.244.1.0/24', '10.244.2.0/24', false],
    ['10.244.1.0/25', '10.244.1.128/25', false],
    ['10.244.1.0/24', '10.244.1.255/32', true],
    ['0.0.0.0/0', '192.168.1.0/24', true],
    ['fd00::/64', 'fd00::1/128', true],
    ['fd00::/64', 'fd00:0:0:1::/64', false],
    ['10.0.0.0/8', '::a00:0/104', false],
  ];
  for (const [a, b, want] of cases) {
    it(`${want ? 'sees' : 'does not see'} an overlap between ${a} and ${b}`, () => {
      expect(cidrsOverlap(parseCidr(a), parseCidr(b))).toBe(want);
    });
  }
});

describe('cidrContains', () => {
  it('tells whether an address lies in a range of its family', () => {
    expect(cidrContains(parseCidr('10.244.1.0/24'), '10.244.1.9')).toBe(true);
    expect(cidrContains(parseCidr('10.244.1.0/24'), '10.244.2.9')).toBe(false);
    expect(cidrContains(parseCidr('fd00::/64'), 'fd00::9')).toBe(true);
    expect(cidrContains(parseCidr('10.0.0.0/8'), 'fd00::9')).toBe(false);
  });
});

describe('parseIp and formatIp', () => {
  it('round-trip addresses in canonical form', () => {
    for (const ip of [
      '10.1.2.3',
      '255.255.255.255',
      'fd00::1',
      '2001:db8::',
      '::',
      '1:0:0:1::1',
      '1:2:3:4:5:6:7:8',
    ]) {
      const { family, value } = parseIp(ip);
      expect(formatIp(family, value)).toBe(ip);
    }
  });
});
