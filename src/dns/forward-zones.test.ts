import { describe, expect, it } from 'vitest';
import { type DnsCluster, forwardZonesFor } from './forward-zones.ts';

const cl = (name: string, domain: string | undefined, ip: string, namespaces?: string[]): DnsCluster => ({
  name,
  ...(domain ? { domain } : {}),
  dnsServers: [ip],
  ...(namespaces ? { namespaces } : {}),
});

describe('forwardZonesFor with distinct cluster domains', () => {
  const clusters = [
    cl('a', 'a.local', '10.1.0.10'),
    cl('b', 'b.local', '10.2.0.10:5353'),
    cl('c', 'c.local', '10.3.0.10'),
  ];

  it('forwards every other cluster domain to that cluster DNS', () => {
    expect(forwardZonesFor(clusters)).toEqual({
      plans: [
        {
          cluster: 'a',
          zones: [
            { zone: 'b.local', upstreams: ['10.2.0.10:5353'] },
            { zone: 'c.local', upstreams: ['10.3.0.10'] },
          ],
        },
        {
          cluster: 'b',
          zones: [
            { zone: 'a.local', upstreams: ['10.1.0.10'] },
            { zone: 'c.local', upstreams: ['10.3.0.10'] },
          ],
        },
        {
          cluster: 'c',
          zones: [
            { zone: 'a.local', upstreams: ['10.1.0.10'] },
            { zone: 'b.local', upstreams: ['10.2.0.10:5353'] },
          ],
        },
      ],
      problems: [],
    });
  });

  it('forwards only to clusters with needed names when those are given', () => {
    const r = forwardZonesFor(clusters, { needed: [{ cluster: 'c', namespace: 'shop' }] });
    expect(r.plans.map((p) => [p.cluster, p.zones.map((z) => z.zone)])).toEqual([
      ['a', ['c.local']],
      ['b', ['c.local']],
      ['c', []],
    ]);
  });

  it('marks every block force_tcp when asked', () => {
    const r = forwardZonesFor(clusters.slice(0, 2), { forceTcp: true });
    expect(r.plans[0]!.zones).toEqual([{ zone: 'b.local', upstreams: ['10.2.0.10:5353'], forceTcp: true }]);
  });

  it('reports a cluster domain that is also a federation zone instead of forwarding it', () => {
    const r = forwardZonesFor(clusters.slice(0, 2), { federationZones: ['B.local.'] });
    expect(r.plans[0]!.zones).toEqual([]);
    expect(r.problems).toEqual([
      {
        reason: 'FederationZoneClash',
        zone: 'b.local',
        clusters: ['b'],
        affected: ['a'],
        message: 'zone b.local is also a federation Domain zone',
      },
    ]);
  });

  it('reports a cluster without DNS address', () => {
    const r = forwardZonesFor([
      cl('a', 'a.local', '10.1.0.10'),
      { name: 'b', domain: 'b.local', dnsServers: [] },
    ]);
    expect(r.plans.find((p) => p.cluster === 'a')!.zones).toEqual([]);
    expect(r.problems.map((p) => [p.reason, p.zone, p.affected])).toEqual([
      ['NoDnsAddress', 'b.local', ['a']],
    ]);
  });
});

describe('forwardZonesFor with a shared cluster domain (TiDB-on-EKS layout)', () => {
  const clusters = [
    cl('a', undefined, '10.1.0.10', ['tidb-a', 'kube-system']),
    cl('b', 'cluster.local', '10.2.0.10', ['tidb-b', 'kube-system']),
    cl('c', 'cluster.local', '10.3.0.10', ['tidb-c', 'kube-system']),
  ];
  const needed = [
    { cluster: 'a', namespace: 'tidb-a' },
    { cluster: 'b', namespace: 'tidb-b' },
    { cluster: 'c', namespace: 'tidb-c' },
  ];

  it('forwards each needed namespace of another cluster to that cluster', () => {
    const r = forwardZonesFor(clusters, { needed });
    expect(r.problems).toEqual([]);
    expect(r.plans).toEqual([
      {
        cluster: 'a',
        zones: [
          { zone: 'tidb-b.svc.cluster.local', upstreams: ['10.2.0.10'] },
          { zone: 'tidb-c.svc.cluster.local', upstreams: ['10.3.0.10'] },
        ],
      },
      {
        cluster: 'b',
        zones: [
          { zone: 'tidb-a.svc.cluster.local', upstreams: ['10.1.0.10'] },
          { zone: 'tidb-c.svc.cluster.local', upstreams: ['10.3.0.10'] },
        ],
      },
      {
        cluster: 'c',
        zones: [
          { zone: 'tidb-a.svc.cluster.local', upstreams: ['10.1.0.10'] },
          { zone: 'tidb-b.svc.cluster.local', upstreams: ['10.2.0.10'] },
        ],
      },
    ]);
  });

  it('forwards nothing per namespace when no names are needed', () => {
    expect(forwardZonesFor(clusters).plans.every((p) => p.zones.length === 0)).toBe(true);
  });

  it('reports a namespace present in two other clusters instead of forwarding it to either', () => {
    const r = forwardZonesFor(
      [
        cl('a', undefined, '10.1.0.10'),
        cl('b', undefined, '10.2.0.10', ['shop']),
        cl('c', undefined, '10.3.0.10'),
      ],
      { needed: [{ cluster: 'c', namespace: 'shop' }] },
    );
    expect(r.plans.find((p) => p.cluster === 'a')!.zones).toEqual([]);
    expect(r.problems).toEqual([
      {
        reason: 'AmbiguousNamespace',
        zone: 'shop.svc.cluster.local',
        clusters: ['b', 'c'],
        affected: ['a'],
        message:
          'namespace shop exists in clusters b, c, which share domain cluster.local; shop.svc.cluster.local cannot be forwarded to one of them',
      },
      {
        reason: 'ShadowsLocalNamespace',
        zone: 'shop.svc.cluster.local',
        clusters: ['c'],
        affected: ['b'],
        message:
          'namespace shop also exists in cluster b; forwarding shop.svc.cluster.local there would hide its own Services',
      },
    ]);
    // c itself hosts shop and needs no block for it.
    expect(r.plans.find((p) => p.cluster === 'c')!.zones).toEqual([]);
  });

  it('reports a namespace needed from two clusters once per serving set, with every affected cluster', () => {
    const r = forwardZonesFor(clusters, {
      needed: [
        { cluster: 'b', namespace: 'shop' },
        { cluster: 'c', namespace: 'shop' },
      ],
    });
    expect(r.problems.map((p) => [p.reason, p.clusters, p.affected])).toEqual([
      ['AmbiguousNamespace', ['b', 'c'], ['a']],
      ['ShadowsLocalNamespace', ['b'], ['c']],
      ['ShadowsLocalNamespace', ['c'], ['b']],
    ]);
    expect(r.plans.every((p) => p.zones.length === 0)).toBe(true);
  });

  it('uses per-namespace zones for a group of other clusters that share a domain different from the local one', () => {
    const r = forwardZonesFor(
      [
        cl('a', 'a.local', '10.1.0.10'),
        cl('b', 'shared.local', '10.2.0.10'),
        cl('c', 'shared.local', '10.3.0.10'),
      ],
      {
        needed: [
          { cluster: 'b', namespace: 'x' },
          { cluster: 'c', namespace: 'y' },
        ],
      },
    );
    expect(r.plans.find((p) => p.cluster === 'a')!.zones).toEqual([
      { zone: 'x.svc.shared.local', upstreams: ['10.2.0.10'] },
      { zone: 'y.svc.shared.local', upstreams: ['10.3.0.10'] },
    ]);
    expect(r.plans.find((p) => p.cluster === 'b')!.zones.map((z) => z.zone)).toEqual(['y.svc.shared.local']);
  });

  it('refuses invalid input, naming the cluster', () => {
    expect(() => forwardZonesFor([cl('a', 'bad domain', '10.0.0.1')])).toThrow(
      /cluster a: cluster domain "bad domain"/,
    );
    expect(() => forwardZonesFor([cl('a', undefined, 'dns.google')])).toThrow(
      /cluster a: DNS address "dns.google"/,
    );
    expect(() => forwardZonesFor([cl('a', undefined, '10.0.0.1', ['a.b'])])).toThrow(
      /not a single DNS label/,
    );
    expect(() =>
      forwardZonesFor([cl('a', undefined, '10.0.0.1')], { needed: [{ cluster: 'z', namespace: 'x' }] }),
    ).toThrow(/unknown cluster z/);
    expect(() => forwardZonesFor([cl('a', undefined, '10.0.0.1'), cl('a', undefined, '10.0.0.2')])).toThrow(
      /unique/,
    );
  });
});
