import { describe, expect, it } from 'vitest';
import { planCorefiles } from './plan.ts';

const cluster = (name: string, domain: string, dns = [`127.0.0.1:${1000 + Number(name.slice(-1))}`]) => ({
  name,
  domain,
  dnsServers: dns,
});

describe('planCorefiles', () => {
  it('forwards the remote cluster domain to every other cluster when domains differ', () => {
    const plan = planCorefiles({
      clusters: [cluster('c0', 'c0.local'), cluster('c1', 'c1.local'), cluster('c2', 'c2.local')],
      serviceClusters: new Map([['tidb/peer', ['c1']]]),
      domains: [],
      dnsEndpoints: [],
    });
    expect(plan.sections.get('c0')?.zones).toEqual([
      expect.objectContaining({ zone: 'c1.local', upstreams: ['127.0.0.1:1001'] }),
    ]);
    expect(plan.sections.get('c2')?.zones).toEqual([expect.objectContaining({ zone: 'c1.local' })]);
    expect(plan.sections.get('c1')?.zones).toEqual([]);
    expect(plan.problems.size).toBe(0);
  });

  it('forwards only the record namespace when every cluster shares cluster.local', () => {
    const plan = planCorefiles({
      clusters: [cluster('c0', 'cluster.local'), cluster('c1', 'cluster.local')],
      serviceClusters: new Map([['tidb-c1/peer', ['c1']]]),
      domains: [],
      dnsEndpoints: [],
    });
    expect(plan.sections.get('c0')?.zones).toEqual([
      expect.objectContaining({ zone: 'tidb-c1.svc.cluster.local' }),
    ]);
  });

  it('leaves out a cluster with a hostile domain and blames the records that need it', () => {
    const plan = planCorefiles({
      clusters: [cluster('c0', 'c0.local'), cluster('c1', 'evil.com {\n forward . 1.2.3.4\n}')],
      serviceClusters: new Map([['tidb/peer', ['c1']]]),
      domains: [],
      dnsEndpoints: [],
    });
    expect(plan.sections.get('c0')?.zones).toEqual([]);
    expect(plan.problems.get('tidb/peer')?.[0]).toMatchObject({
      reason: 'InvalidClusterDNS',
      message: expect.stringMatching(/^cluster c1/),
    });
  });

  it('reports a cluster whose DNS address is unknown and writes no block for it', () => {
    const plan = planCorefiles({
      clusters: [cluster('c0', 'c0.local'), cluster('c1', 'c1.local', [])],
      serviceClusters: new Map([['tidb/peer', ['c1']]]),
      domains: [],
      dnsEndpoints: [],
    });
    expect(plan.sections.get('c0')?.zones).toEqual([]);
    expect(plan.problems.get('tidb/peer')?.map((p) => p.reason)).toContain('NoDnsAddress');
  });

  it('serves the federation zone in every cluster from the DNSEndpoints', () => {
    const plan = planCorefiles({
      clusters: [cluster('c0', 'c0.local'), cluster('c1', 'c1.local')],
      serviceClusters: new Map(),
      domains: [{ domain: 'example.org' }],
      dnsEndpoints: [
        {
          metadata: { name: 'service-web', namespace: 'n' },
          spec: {
            endpoints: [
              {
                dnsName: 'web.n.fed.svc.example.org',
                targets: ['198.51.100.7'],
                recordType: 'A',
                recordTTL: 60,
              },
            ],
          },
        },
      ],
    });
    for (const c of ['c0', 'c1'])
      expect(plan.sections.get(c)?.records?.map((r) => r.zone)).toEqual(['example.org']);
  });
});
