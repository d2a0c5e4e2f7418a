// Pure address planning for the testbed: which pod, service and node addresses each cluster gets.
// Nothing here touches the network; the functions are table-tested in cidr.unit.test.ts.

export interface Cidr {
  /** Network address as a 32-bit unsigned integer. */
  readonly base: number;
  readonly prefix: number;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: "${ip}"`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new Error(`not an IPv4 address: "${ip}"`);
    n = n * 256 + Number(p);
  }
  return n;
}

export function intToIp(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`address out of range: ${n}`);
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(text: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (!m) throw new Error(`not an IPv4 CIDR: "${text}"`);
  const prefix = Number(m[2]);
  if (prefix > 32) throw new Error(`prefix length out of range in "${text}"`);
  const addr = ipToInt(m[1]!);
  const base = prefix === 0 ? 0 : (addr & (0xffffffff << (32 - prefix))) >>> 0;
  if (base !== addr) throw new Error(`"${text}" has host bits set (network is ${intToIp(base)}/${prefix})`);
  return { base, prefix };
}

export const formatCidr = (c: Cidr): string => `${intToIp(c.base)}/${c.prefix}`;

export const cidrSize = (c: Cidr): number => 2 ** (32 - c.prefix);

export function cidrContains(c: Cidr, ip: string): boolean {
  const n = ipToInt(ip);
  return n >= c.base && n < c.base + cidrSize(c);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
}

/** The i-th address of a CIDR (0 = network address); throws when it falls outside. */
export function nthAddress(c: Cidr, i: number): string {
  if (i < 0 || i >= cidrSize(c)) throw new Error(`address #${i} is outside ${formatCidr(c)}`);
  return intToIp(c.base + i);
}

const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map(parseCidr);

/** RFC 1918 addresses: the only kind that may live inside the testbed's network namespaces. */
export const isPrivateIPv4 = (ip: string): boolean => PRIVATE.some((c) => cidrContains(c, ip));

export interface ClusterNetworkPlan {
  podCIDR: string;
  serviceCIDR: string;
  /** First address of the service range: the `kubernetes` Service's ClusterIP. */
  apiServiceIP: string;
}

/** Cluster i (0-based) gets pods 10.(100+i).0.0/16 and services 10.(200+i).0.0/16: never overlapping. */
export function clusterNetwork(index: number): ClusterNetworkPlan {
  if (!Number.isInteger(index) || index < 0 || index > 54) {
    throw new Error(`cluster index ${index} out of range 0..54 (pod ranges 10.100-154.0.0/16)`);
  }
  const pod = parseCidr(`10.${100 + index}.0.0/16`);
  const service = parseCidr(`10.${200 + index}.0.0/16`);
  return { podCIDR: formatCidr(pod), serviceCIDR: formatCidr(service), apiServiceIP: nthAddress(service, 1) };
}

/**
 * Every node of a testbed sits on one /24 inside the fabric network namespace: 172.31.<idByte>.0/24.
 * Node j of cluster i gets host number 11 + i*nodesPerCluster + j.
 */
export function nodeSubnet(idByte: number): string {
  if (!Number.isInteger(idByte) || idByte < 0 || idByte > 255)
    throw new Error(`id byte ${idByte} out of range`);
  return `172.31.${idByte}.0/24`;
}

export function nodeIP(idByte: number, cluster: number, node: number, nodesPerCluster: number): string {
  if (node < 0 || node >= nodesPerCluster)
    throw new Error(`node ${node} out of range 0..${nodesPerCluster - 1}`);
  const host = 11 + cluster * nodesPerCluster + node;
  if (host > 254) {
    throw new Error(
      `too many nodes for one testbed subnet: cluster ${cluster} node ${node} would be host .${host}`,
    );
  }
  return nthAddress(parseCidr(nodeSubnet(idByte)), host);
}

/** Checks a whole plan: no two clusters' pod/service ranges and no node subnet overlap. */
export function findOverlaps(cidrs: readonly { owner: string; cidr: string }[]): string[] {
  const parsed = cidrs.map((c) => ({ ...c, parsed: parseCidr(c.cidr) }));
  const problems: string[] = [];
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      const a = parsed[i]!;
      const b = parsed[j]!;
      if (cidrsOverlap(a.parsed, b.parsed))
        problems.push(`${a.owner} ${a.cidr} overlaps ${b.owner} ${b.cidr}`);
    }
  }
  return problems;
}
