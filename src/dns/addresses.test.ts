import { describe, expect, it } from 'vitest';
import { clusterDomainFromCorefile, dnsAddresses, topologyOf } from './addresses.ts';

const svc = (ingress: object[], labelled = true) =>
  ({
    metadata: { name: 'x', labels: labelled ? { 'fedctl.io/cross-cluster-dns': 'true' } : {} },
    status: { loadBalancer: { ingress } },
  }) as never;

describe('dnsAddresses', () => {
  it('prefers the explicit KubeFedCluster annotation over everything discovered', () => {
    expect(
      dnsAddresses({
        annotations: { 'fedctl.io/dns-addresses': '10.0.0.2, 10.0.0.1:5353' },
        labelledServices: [svc([{ ip: '1.1.1.1' }])],
        kubeDnsEndpoints: ['10.1.0.5'],
      }),
    ).toEqual({
      addresses: ['10.0.0.1:5353', '10.0.0.2'],
      source: 'annotation',
    });
  });

  it('takes the labelled Service load balancer ingress, with its UDP port when not 53', () => {
    expect(
      dnsAddresses({
        labelledServices: [
          svc([{ ip: '127.0.0.1', ports: [{ port: 40123, protocol: 'UDP' }] }, { ip: '127.0.0.2' }]),
        ],
        kubeDnsEndpoints: [],
      }),
    ).toEqual({
      addresses: ['127.0.0.1:40123', '127.0.0.2'],
      source: 'service',
    });
  });

  it('ignores Services without the label and ingress without an IP', () => {
    expect(
      dnsAddresses({
        labelledServices: [svc([{ ip: '1.2.3.4' }], false), svc([{ hostname: 'lb.example.com' }])],
        kubeDnsEndpoints: ['10.96.0.10'],
      }),
    ).toEqual({
      addresses: ['10.96.0.10'],
      source: 'kube-dns',
    });
  });

  it('says unknown when nothing is known', () => {
    expect(dnsAddresses({ labelledServices: [], kubeDnsEndpoints: [] })).toEqual({
      addresses: [],
      source: 'unknown',
    });
  });
});

describe('clusterDomainFromCorefile', () => {
  it('reads the first forward zone of the kubernetes plugin', () => {
    expect(
      clusterDomainFromCorefile(
        '.:53 {\n  errors\n  kubernetes cluster1.local in-addr.arpa ip6.arpa {\n    pods insecure\n  }\n}\n',
      ),
    ).toBe('cluster1.local');
  });
  it('skips reverse zones listed first and ignores comments', () => {
    expect(
      clusterDomainFromCorefile(
        '# kubernetes evil.com\n.:53 {\n kubernetes in-addr.arpa Cluster.Local. {\n }\n}',
      ),
    ).toBe('cluster.local');
  });
  it('returns undefined without a kubernetes plugin', () => {
    expect(clusterDomainFromCorefile('.:53 {\n forward . 1.1.1.1\n}')).toBeUndefined();
    expect(clusterDomainFromCorefile(undefined)).toBeUndefined();
  });
});

describe('topologyOf', () => {
  it('reports the single region and every zone of the nodes', () => {
    const node = (region: string, zone: string) => ({
      metadata: { labels: { 'topology.kubernetes.io/region': region, 'topology.kubernetes.io/zone': zone } },
    });
    expect(topologyOf([node('eu', 'eu-b'), node('eu', 'eu-a'), node('eu', 'eu-a')])).toEqual({
      region: 'eu',
      zones: ['eu-a', 'eu-b'],
    });
  });
  it('reports no region for a cluster spanning several, and nothing for unlabelled nodes', () => {
    const node = (region: string) => ({ metadata: { labels: { 'topology.kubernetes.io/region': region } } });
    expect(topologyOf([node('eu'), node('us')])).toEqual({ region: undefined, zones: [] });
    expect(topologyOf([{}])).toEqual({ region: undefined, zones: [] });
  });
});
