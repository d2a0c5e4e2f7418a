import { describe, expect, it } from 'vitest';
import {
  cidrContains,
  cidrsOverlap,
  clusterNetwork,
  findOverlaps,
  intToIp,
  ipToInt,
  isPrivateIPv4,
  nodeIP,
  nodeSubnet,
  parseCidr,
} from './cidr.ts';

describe('IPv4 arithmetic', () => {
  it.each([
    ['0.0.0.0', 0],
    ['10.0.0.1', 167772161],
    ['255.255.255.255', 4294967295],
  ])('converts %s to %i and back', (ip, n) => {
    expect(ipToInt(ip)).toBe(n);
    expect(intToIp(n)).toBe(ip);
  });

  it.each(['10.0.0', '10.0.0.256', 'a.b.c.d', '1.2.3.4.5', ''])('rejects "%s"', (bad) => {
    expect(() => ipToInt(bad)).toThrow(/not an IPv4 address/);
  });

  it('rejects a CIDR with host bits set and names the network', () => {
    expect(() => parseCidr('10.1.2.3/16')).toThrow(/10\.1\.0\.0\/16/);
  });

  it('knows containment and overlap', () => {
    const a = parseCidr('10.100.0.0/16');
    expect(cidrContains(a, '10.100.255.255')).toBe(true);
    expect(cidrContains(a, '10.101.0.0')).toBe(false);
    expect(cidrsOverlap(a, parseCidr('10.100.7.0/24'))).toBe(true);
    expect(cidrsOverlap(a, parseCidr('10.101.0.0/16'))).toBe(false);
  });

  it.each([
    ['10.3.4.5', true],
    ['172.16.0.1', true],
    ['172.31.255.1', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['127.0.0.1', false],
    ['8.8.8.8', false],
  ])('classifies %s as private=%s', (ip, priv) => {
    expect(isPrivateIPv4(ip)).toBe(priv);
  });
});

describe('cluster address plan', () => {
  it('gives cluster i pods 10.(100+i)/16 and services 10.(200+i)/16', () => {
    expect(clusterNetwork(0)).toEqual({
      podCIDR: '10.100.0.0/16',
      serviceCIDR: '10.200.0.0/16',
      apiServiceIP: '10.200.0.1',
    });
    expect(clusterNetwork(2).podCIDR).toBe('10.102.0.0/16');
  });

  it('never overlaps between twenty clusters and the node subnet', () => {
    const all = Array.from({ length: 20 }, (_, i) => clusterNetwork(i)).flatMap((n, i) => [
      { owner: `cluster${i} pods`, cidr: n.podCIDR },
      { owner: `cluster${i} services`, cidr: n.serviceCIDR },
    ]);
    all.push({ owner: 'nodes', cidr: nodeSubnet(7) });
    expect(findOverlaps(all)).toEqual([]);
  });

  it('reports overlapping ranges by owner', () => {
    expect(
      findOverlaps([
        { owner: 'a', cidr: '10.0.0.0/8' },
        { owner: 'b', cidr: '10.5.0.0/16' },
      ]),
    ).toEqual(['a 10.0.0.0/8 overlaps b 10.5.0.0/16']);
  });

  it('refuses cluster indexes whose pod range would leave 10.100-154', () => {
    expect(() => clusterNetwork(55)).toThrow(/out of range/);
  });

  it('numbers nodes across clusters inside the testbed subnet, all private', () => {
    expect(nodeIP(9, 0, 0, 2)).toBe('172.31.9.11');
    expect(nodeIP(9, 0, 1, 2)).toBe('172.31.9.12');
    expect(nodeIP(9, 2, 1, 2)).toBe('172.31.9.16');
    expect(isPrivateIPv4(nodeIP(255, 19, 9, 10))).toBe(true);
  });

  it('refuses node numbers that do not fit in the /24', () => {
    expect(() => nodeIP(1, 30, 9, 10)).toThrow(/too many nodes/);
    expect(() => nodeIP(1, 0, 2, 2)).toThrow(/out of range/);
  });
});
