import { describe, expect, it } from 'vitest';
import type { ClusterDNS, Endpoint, IngressDNSRecord, ServiceDNSRecord } from '../api/dns.ts';
import {
  dedupeAndMergeEndpoints,
  desiredDnsEndpoint,
  endpointsHaveAddresses,
  ingressDnsEndpoints,
  loadBalancerHostnames,
  mergeClusterDns,
  serviceDnsEndpoints,
  serviceDnsStatus,
  serviceRecordNames,
  UnresolvedHostnameError,
} from './records.ts';

const zone = 'example.com';
const g = 'web.shop.fed.svc.example.com';
const r1 = 'web.shop.fed.svc.europe.example.com';
const z1 = 'web.shop.fed.svc.europe-a.europe.example.com';
const r2 = 'web.shop.fed.svc.asia.example.com';
const z2 = 'web.shop.fed.svc.asia-b.asia.example.com';

const lb = (...ips: string[]) => ({ ingress: ips.map((ip) => ({ ip })) });
const c1 = (loadBalancer = {}): ClusterDNS => ({
  cluster: 'c1',
  region: 'europe',
  zones: ['europe-a'],
  loadBalancer,
});
const c2 = (loadBalancer = {}): ClusterDNS => ({
  cluster: 'c2',
  region: 'asia',
  zones: ['asia-b'],
  loadBalancer,
});

function record(spec: Partial<ServiceDNSRecord['spec']> = {}, dns: ClusterDNS[] = []): ServiceDNSRecord {
  return {
    metadata: { name: 'web', namespace: 'shop' },
    spec: { domainRef: 'fed', ...spec },
    status: { domain: zone, dns },
  };
}

const A = (dnsName: string, targets: string[], recordTTL = 180): Endpoint => ({
  dnsName,
  targets,
  recordType: 'A',
  recordTTL,
});
const CNAME = (dnsName: string, target: string, recordTTL = 180): Endpoint => ({
  dnsName,
  targets: [target],
  recordType: 'CNAME',
  recordTTL,
});

describe('serviceDnsEndpoints', () => {
  const cases: { name: string; rec: ServiceDNSRecord; resolved?: Map<string, string[]>; want: Endpoint[] }[] =
    [
      { name: 'a record without clusters yields no endpoints', rec: record(), want: [] },
      {
        name: 'one cluster with an address gets A records at every level',
        rec: record({}, [c1(lb('10.1.0.1'))]),
        want: [A(g, ['10.1.0.1']), A(r1, ['10.1.0.1']), A(z1, ['10.1.0.1'])],
      },
      {
        name: 'a cluster without addresses gets CNAMEs to the level above and nothing at the global level',
        rec: record({}, [c1()]),
        want: [CNAME(r1, g), CNAME(z1, r1)],
      },
      {
        name: 'clusters in different regions share the global A record and keep their own levels',
        rec: record({}, [c1(lb('10.1.0.1')), c2(lb('10.2.0.1'))]),
        want: [
          A(g, ['10.1.0.1', '10.2.0.1']),
          A(r2, ['10.2.0.1']),
          A(z2, ['10.2.0.1']),
          A(r1, ['10.1.0.1']),
          A(z1, ['10.1.0.1']),
        ],
      },
      {
        name: 'a cluster without addresses beside one with addresses points its levels up to the global A record',
        rec: record({}, [c1(lb('10.1.0.1')), c2()]),
        want: [A(g, ['10.1.0.1']), CNAME(r2, g), CNAME(z2, r2), A(r1, ['10.1.0.1']), A(z1, ['10.1.0.1'])],
      },
      {
        name: 'A wins over CNAME for a name shared by clusters in the same region and zone',
        rec: record({}, [c1(lb('10.1.0.1')), { ...c1(), cluster: 'c3' }]),
        want: [A(g, ['10.1.0.1']), A(r1, ['10.1.0.1']), A(z1, ['10.1.0.1'])],
      },
      {
        name: 'targets are united, de-duplicated and sorted as strings, as KubeFed did',
        rec: record({}, [
          c1(lb('10.9.0.1', '10.10.0.1', '10.9.0.1')),
          { ...c1(lb('10.10.0.1', '9.0.0.1')), cluster: 'c3' },
        ]),
        want: [
          A(g, ['10.10.0.1', '10.9.0.1', '9.0.0.1']),
          A(r1, ['10.10.0.1', '10.9.0.1', '9.0.0.1']),
          A(z1, ['10.10.0.1', '10.9.0.1', '9.0.0.1']),
        ],
      },
      {
        name: 'every zone of a cluster gets its own name',
        rec: record({}, [{ ...c1(lb('10.1.0.1')), zones: ['europe-a', 'europe-b'] }]),
        want: [
          A(g, ['10.1.0.1']),
          A(r1, ['10.1.0.1']),
          A(z1, ['10.1.0.1']),
          A('web.shop.fed.svc.europe-b.europe.example.com', ['10.1.0.1']),
        ],
      },
      {
        name: 'a custom TTL applies to every record',
        rec: record({ recordTTL: 42 }, [c1(lb('10.1.0.1'))]),
        want: [A(g, ['10.1.0.1'], 42), A(r1, ['10.1.0.1'], 42), A(z1, ['10.1.0.1'], 42)],
      },
      {
        name: 'dnsPrefix adds a CNAME from <prefix>.<domain> to the global name',
        rec: record({ dnsPrefix: 'shop' }, [c1(lb('10.1.0.1'))]),
        want: [CNAME('shop.example.com', g), A(g, ['10.1.0.1']), A(r1, ['10.1.0.1']), A(z1, ['10.1.0.1'])],
      },
      {
        name: 'dnsPrefix is published even when no cluster has an address',
        rec: record({ dnsPrefix: 'shop' }),
        want: [CNAME('shop.example.com', g)],
      },
      {
        name: 'externalName replaces the service name and labels every service record with serviceName',
        rec: record({ externalName: 'store' }, [c1(lb('10.1.0.1'))]),
        want: [
          { ...A('store.shop.fed.svc.example.com', ['10.1.0.1']), labels: { serviceName: 'web' } },
          { ...A('store.shop.fed.svc.europe.example.com', ['10.1.0.1']), labels: { serviceName: 'web' } },
          {
            ...A('store.shop.fed.svc.europe-a.europe.example.com', ['10.1.0.1']),
            labels: { serviceName: 'web' },
          },
        ],
      },
      {
        name: 'load balancer host names are replaced by the addresses they resolve to',
        rec: record({}, [c1({ ingress: [{ hostname: 'lb.elb.test' }] }), c2(lb('10.2.0.1'))]),
        resolved: new Map([['lb.elb.test', ['10.3.0.2', '10.3.0.1']]]),
        want: [
          A(g, ['10.2.0.1', '10.3.0.1', '10.3.0.2']),
          A(r2, ['10.2.0.1']),
          A(z2, ['10.2.0.1']),
          A(r1, ['10.3.0.1', '10.3.0.2']),
          A(z1, ['10.3.0.1', '10.3.0.2']),
        ],
      },
      {
        name: 'a cluster without a region is published at the global level only',
        rec: record({}, [{ cluster: 'c9', loadBalancer: lb('10.9.0.1'), zones: ['orphan-zone'] }]),
        want: [A(g, ['10.9.0.1'])],
      },
      {
        name: 'a cluster with a region but no zones is published at the global and region levels',
        rec: record({}, [{ cluster: 'c9', loadBalancer: lb('10.9.0.1'), region: 'europe' }]),
        want: [A(g, ['10.9.0.1']), A(r1, ['10.9.0.1'])],
      },
    ];

  for (const c of cases) {
    it(c.name, () => {
      expect(serviceDnsEndpoints(c.rec, { domain: zone, resolved: c.resolved })).toEqual(
        [...c.want].sort((a, b) => (a.dnsName < b.dnsName ? -1 : 1)),
      );
    });
  }

  it('fails with the host name when a load balancer host name was not resolved', () => {
    const rec = record({}, [c1({ ingress: [{ hostname: 'lb.elb.test' }] })]);
    expect(() => serviceDnsEndpoints(rec, { domain: zone })).toThrow(UnresolvedHostnameError);
    expect(() => serviceDnsEndpoints(rec, { domain: zone })).toThrow(
      /lb\.elb\.test.*shop\/web in cluster c1/,
    );
  });

  it('takes the zone from the Domain object, lowercased and without a trailing dot', () => {
    const out = serviceDnsEndpoints(record({}, [c1(lb('10.1.0.1'))]), {
      domain: { domain: 'Example.COM.' },
    });
    expect(out.map((e) => e.dnsName)).toEqual([z1, r1, g]);
  });

  it('uses the given per-cluster status instead of the record status', () => {
    const out = serviceDnsEndpoints(record({}, [c1(lb('10.1.0.1'))]), { domain: zone, dns: [] });
    expect(out).toEqual([]);
  });

  it('refuses a record without namespace or domainRef and a Domain without domain', () => {
    expect(() => serviceDnsEndpoints({ ...record(), metadata: { name: 'web' } }, { domain: zone })).toThrow(
      /no namespace/,
    );
    expect(() => serviceDnsEndpoints(record({ domainRef: '' }), { domain: zone })).toThrow(/domainRef/);
    expect(() => serviceDnsEndpoints(record(), { domain: { domain: '' } })).toThrow(/no domain/);
  });
});

describe('serviceRecordNames', () => {
  it('builds the global, region and zone names KubeFed documented', () => {
    const n = serviceRecordNames(record({ dnsPrefix: 'www' }), zone);
    expect(n.global).toBe(g);
    expect(n.region('europe')).toBe(r1);
    expect(n.zone('europe-a', 'europe')).toBe(z1);
    expect(n.dnsPrefix).toBe('www.example.com');
  });
});

describe('dedupeAndMergeEndpoints', () => {
  it('drops empty targets and endpoints left without targets', () => {
    expect(dedupeAndMergeEndpoints([A('a.x', ['', '1.1.1.1']), CNAME('b.x', '')])).toEqual([
      A('a.x', ['1.1.1.1']),
    ]);
  });
  it('keeps the A record when a CNAME comes after it and when it comes before it', () => {
    expect(dedupeAndMergeEndpoints([A('a.x', ['1.1.1.1']), CNAME('a.x', 'b.x')])).toEqual([
      A('a.x', ['1.1.1.1']),
    ]);
    expect(dedupeAndMergeEndpoints([CNAME('a.x', 'b.x'), A('a.x', ['1.1.1.1'])])).toEqual([
      A('a.x', ['1.1.1.1']),
    ]);
  });
  it('unites the targets of two CNAMEs of one name', () => {
    expect(dedupeAndMergeEndpoints([CNAME('a.x', 'c.x'), CNAME('a.x', 'b.x'), CNAME('a.x', 'c.x')])).toEqual([
      { ...CNAME('a.x', 'b.x'), targets: ['b.x', 'c.x'] },
    ]);
  });
  it('does not modify its input', () => {
    const input = [A('a.x', ['2.2.2.2']), A('a.x', ['1.1.1.1'])];
    const copy = structuredClone(input);
    dedupeAndMergeEndpoints(input);
    expect(input).toEqual(copy);
  });
});

describe('loadBalancerHostnames', () => {
  it('lists host names only, sorted and unique', () => {
    expect(
      loadBalancerHostnames([
        { loadBalancer: { ingress: [{ hostname: 'b.test' }, { ip: '10.0.0.1' }] } },
        { loadBalancer: { ingress: [{ hostname: 'a.test', ip: '10.0.0.2' }, { hostname: 'b.test' }] } },
        {},
      ]),
    ).toEqual(['a.test', 'b.test']);
  });
});

describe('ingressDnsEndpoints', () => {
  const ing = (hosts: string[], dns: IngressDNSRecord['status']): IngressDNSRecord => ({
    metadata: { name: 'front', namespace: 'shop' },
    spec: { hosts },
    status: dns,
  });
  it('gives every host one A record with the addresses of all clusters', () => {
    expect(
      ingressDnsEndpoints(
        ing(['b.example.com', 'a.example.com'], {
          dns: [
            { cluster: 'c1', loadBalancer: lb('10.1.0.1') },
            { cluster: 'c2', loadBalancer: lb('10.0.0.9', '10.1.0.1') },
          ],
        }),
      ),
    ).toEqual([A('a.example.com', ['10.0.0.9', '10.1.0.1']), A('b.example.com', ['10.0.0.9', '10.1.0.1'])]);
  });
  it('gives no record when no cluster has an address', () => {
    expect(
      ingressDnsEndpoints(ing(['a.example.com'], { dns: [{ cluster: 'c1', loadBalancer: {} }] })),
    ).toEqual([]);
  });
  it('uses the record TTL when set', () => {
    const rec = ing(['a.example.com'], { dns: [{ cluster: 'c1', loadBalancer: lb('10.1.0.1') }] });
    rec.spec.recordTTL = 30;
    expect(ingressDnsEndpoints(rec)).toEqual([A('a.example.com', ['10.1.0.1'], 30)]);
  });
});

describe('serviceDnsStatus', () => {
  const svc = {
    status: { loadBalancer: { ingress: [{ ip: '10.0.0.2' }, { hostname: 'b.test' }, { ip: '10.0.0.1' }] } },
  };
  const cases = [
    {
      name: 'a Service with ready endpoints publishes its load balancer, sorted by IP then host name',
      args: [svc, true, false] as const,
      want: {
        contributes: true,
        reason: 'EndpointsReady',
        loadBalancer: { ingress: [{ hostname: 'b.test' }, { ip: '10.0.0.1' }, { ip: '10.0.0.2' }] },
      },
    },
    {
      name: 'a Service without ready endpoints is listed without load balancer',
      args: [svc, false, false] as const,
      want: { contributes: false, reason: 'NoEndpoints', loadBalancer: {} },
    },
    {
      name: 'allowServiceWithoutEndpoints publishes the load balancer of a Service without endpoints',
      args: [svc, false, true] as const,
      want: {
        contributes: true,
        reason: 'AllowedWithoutEndpoints',
        loadBalancer: { ingress: [{ hostname: 'b.test' }, { ip: '10.0.0.1' }, { ip: '10.0.0.2' }] },
      },
    },
    {
      name: 'a missing Service is listed without load balancer',
      args: [undefined, false, true] as const,
      want: { contributes: false, reason: 'ServiceNotFound', loadBalancer: {} },
    },
    {
      name: 'a Service without load balancer address does not contribute',
      args: [{ status: {} }, true, false] as const,
      want: { contributes: false, reason: 'NoLoadBalancer', loadBalancer: {} },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = serviceDnsStatus('c1', c.args[0], c.args[1], c.args[2], 'europe', ['europe-a']);
      expect(d).toEqual({
        dns: { cluster: 'c1', region: 'europe', zones: ['europe-a'], loadBalancer: c.want.loadBalancer },
        contributes: c.want.contributes,
        reason: c.want.reason,
      });
    });
  }
  it('omits region and zones the cluster does not have', () => {
    expect(serviceDnsStatus('c1', undefined, false, false, undefined, []).dns).toEqual({
      cluster: 'c1',
      loadBalancer: {},
    });
  });
  it('does not reorder the Service it was given', () => {
    const copy = structuredClone(svc);
    serviceDnsStatus('c1', svc, true, false, 'r', ['z']);
    expect(svc).toEqual(copy);
  });
});

describe('endpointsHaveAddresses', () => {
  it('needs at least one ready address in some subset', () => {
    expect(endpointsHaveAddresses(undefined)).toBe(false);
    expect(endpointsHaveAddresses({ subsets: [{ addresses: [] }] })).toBe(false);
    expect(endpointsHaveAddresses({ subsets: [{}, { addresses: [{ ip: '10.0.0.1' }] }] })).toBe(true);
  });
});

describe('mergeClusterDns', () => {
  it('keeps offline clusters listed with their load balancer cleared, sorted by cluster', () => {
    const prev = [c2(lb('10.2.0.1')), c1(lb('10.1.0.1'))];
    expect(mergeClusterDns([c1(lb('10.1.0.5'))], prev, ['c2', 'c7'])).toEqual([c1(lb('10.1.0.5')), c2({})]);
  });
  it('never lists an offline cluster twice', () => {
    expect(mergeClusterDns([c2(lb('10.2.0.1'))], [c2(lb('10.2.0.9'))], ['c2'])).toEqual([c2(lb('10.2.0.1'))]);
  });
});

describe('desiredDnsEndpoint', () => {
  it('names the object <kind>-<record name> in the record namespace', () => {
    expect(desiredDnsEndpoint('service', record(), [A(g, ['10.1.0.1'])])).toEqual({
      apiVersion: 'multiclusterdns.kubefed.io/v1alpha1',
      kind: 'DNSEndpoint',
      metadata: { name: 'service-web', namespace: 'shop' },
      spec: { endpoints: [A(g, ['10.1.0.1'])] },
    });
  });
});
