import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  dnsIngressStatus,
  kindClusterConfig,
  kindCreateCommand,
  kindCrossClusterDnsService,
  kindDeleteCommand,
  kindServer,
  parseKindClusters,
  renderKindConfig,
} from './kind.ts';
import { planClusters } from './plan.ts';

describe('kind cluster configs', () => {
  const [c0, c1] = planClusters(2, 'distinct');

  it('gives every cluster its own pod and service subnets and K workers', () => {
    const cfg = kindClusterConfig(c1!, { workers: 2 });
    expect(cfg.networking).toEqual({
      podSubnet: '10.101.0.0/16',
      serviceSubnet: '10.201.0.0/16',
      apiServerAddress: '127.0.0.1',
    });
    expect(cfg.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
    expect(cfg.nodes[1]!.labels).toEqual({
      'topology.kubernetes.io/region': 'region-1',
      'topology.kubernetes.io/zone': 'region-1-a',
    });
    expect(cfg.name).toBe('cluster1');
  });

  it('sets a distinct cluster domain through kubeadm patches', () => {
    const cfg = kindClusterConfig(c0!, { workers: 1 });
    expect(cfg.kubeadmConfigPatches!.map((p) => parse(p))).toEqual([
      { kind: 'ClusterConfiguration', networking: { dnsDomain: 'cluster0.local' } },
      { kind: 'KubeletConfiguration', clusterDomain: 'cluster0.local' },
    ]);
  });

  it('leaves kind defaults alone for the shared cluster.local domain', () => {
    const [shared] = planClusters(1, 'shared');
    expect(kindClusterConfig(shared!, { workers: 1 }).kubeadmConfigPatches).toBeUndefined();
  });

  it('renders YAML kind can read and pins the node image when given', () => {
    const text = renderKindConfig(kindClusterConfig(c0!, { workers: 1, image: 'kindest/node:v1.36.0' }));
    const doc = parse(text);
    expect(doc.apiVersion).toBe('kind.x-k8s.io/v1alpha4');
    expect(doc.kind).toBe('Cluster');
    expect(doc.nodes.every((n: { image: string }) => n.image === 'kindest/node:v1.36.0')).toBe(true);
  });

  it('rejects a negative worker count', () => {
    expect(() => kindClusterConfig(c0!, { workers: -1 })).toThrow(/workers/);
  });
});

describe('kind commands', () => {
  it('creates with name, config, its own kubeconfig file and a wait', () => {
    expect(kindCreateCommand('cluster0', '/s/cluster0.yaml', '/s/cluster0.kubeconfig')).toEqual({
      file: 'kind',
      args: [
        'create',
        'cluster',
        '--name',
        'cluster0',
        '--config',
        '/s/cluster0.yaml',
        '--kubeconfig',
        '/s/cluster0.kubeconfig',
        '--wait',
        '180s',
      ],
    });
    expect(kindDeleteCommand('cluster0').args).toEqual(['delete', 'cluster', '--name', 'cluster0']);
  });

  it('parses `kind get clusters`', () => {
    expect(parseKindClusters('cluster0\ncluster1\n')).toEqual(['cluster0', 'cluster1']);
    expect(parseKindClusters('No kind clusters found.\n')).toEqual([]);
  });

  it('picks the server address for host or in-network controllers', () => {
    expect(kindServer('cluster0', 'https://127.0.0.1:39123', 'host')).toBe('https://127.0.0.1:39123');
    expect(kindServer('cluster0', 'https://0.0.0.0:39123', 'host')).toBe('https://127.0.0.1:39123');
    expect(kindServer('cluster0', 'https://127.0.0.1:39123', 'internal')).toBe(
      'https://cluster0-control-plane:6443',
    );
  });
});

describe('cross-cluster DNS Service', () => {
  it('is labelled for fedctl and selects CoreDNS', () => {
    const svc = kindCrossClusterDnsService('fedctl.io/cross-cluster-dns') as {
      metadata: { labels: Record<string, string>; namespace: string };
      spec: { type: string; selector: Record<string, string> };
    };
    expect(svc.metadata.labels).toEqual({ 'fedctl.io/cross-cluster-dns': 'true' });
    expect(svc.metadata.namespace).toBe('kube-system');
    expect(svc.spec.type).toBe('LoadBalancer');
    expect(svc.spec.selector).toEqual({ 'k8s-app': 'kube-dns' });
  });

  it('announces ip and UDP port in the load-balancer status', () => {
    expect(dnsIngressStatus('127.0.0.1', 40053)).toEqual({
      status: { loadBalancer: { ingress: [{ ip: '127.0.0.1', ports: [{ port: 40053, protocol: 'UDP' }] }] } },
    });
  });
});
