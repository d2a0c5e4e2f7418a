import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { buildKubeconfig, mergeKubeconfigs, renderKubeconfig, singleContext } from './kubeconfig.ts';

const creds = (name: string, port: number) => ({
  name,
  server: `https://127.0.0.1:${port}`,
  caData: 'Q0E=',
  certData: 'Q0VSVA==',
  keyData: 'S0VZ',
});

const kindFile = (name: string, port: number) =>
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': `kind-${name}`,
    clusters: [
      {
        name: `kind-${name}`,
        cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': 'Q0E=' },
      },
    ],
    users: [{ name: `kind-${name}`, user: { 'client-certificate-data': 'Yw==', 'client-key-data': 'aw==' } }],
    contexts: [{ name: `kind-${name}`, context: { cluster: `kind-${name}`, user: `kind-${name}` } }],
  });

describe('kubeconfig for local clusters', () => {
  it('has one context per cluster, named like the cluster, first one current', () => {
    const k = buildKubeconfig([creds('cluster0', 1), creds('cluster1', 2)]);
    expect(k.contexts.map((c) => c.name)).toEqual(['cluster0', 'cluster1']);
    expect(k.contexts[1]!.context).toEqual({ cluster: 'cluster1', user: 'cluster1-admin' });
    expect(k.clusters[1]!.cluster.server).toBe('https://127.0.0.1:2');
    expect(k['current-context']).toBe('cluster0');
  });

  it('round-trips through YAML', () => {
    const k = buildKubeconfig([creds('cluster0', 1)]);
    expect(parse(renderKubeconfig(k))).toEqual(k);
  });

  it('refuses duplicate names and an unknown current context', () => {
    expect(() => buildKubeconfig([creds('a', 1), creds('a', 2)])).toThrow(/duplicate/);
    expect(() => buildKubeconfig([creds('a', 1)], 'b')).toThrow(/current context/);
  });

  it('cuts out a single context', () => {
    const one = singleContext(buildKubeconfig([creds('cluster0', 1), creds('cluster1', 2)]), 'cluster1');
    expect(one.contexts.map((c) => c.name)).toEqual(['cluster1']);
    expect(one.users.map((u) => u.name)).toEqual(['cluster1-admin']);
    expect(one['current-context']).toBe('cluster1');
  });
});

describe('merging kind kubeconfigs', () => {
  it('renames contexts, clusters and users to the cluster names', () => {
    const m = mergeKubeconfigs([
      { clusterName: 'cluster0', text: kindFile('cluster0', 6443) },
      { clusterName: 'cluster1', text: kindFile('cluster1', 6444) },
    ]);
    expect(m.contexts).toEqual([
      { name: 'cluster0', context: { cluster: 'cluster0', user: 'cluster0-admin' } },
      { name: 'cluster1', context: { cluster: 'cluster1', user: 'cluster1-admin' } },
    ]);
    expect(m.clusters.map((c) => c.cluster.server)).toEqual([
      'https://127.0.0.1:6443',
      'https://127.0.0.1:6444',
    ]);
    expect(m.users[0]!.user['client-key-data']).toBe('aw==');
  });

  it('rewrites servers when asked', () => {
    const m = mergeKubeconfigs([{ clusterName: 'c', text: kindFile('c', 1) }], {
      rewriteServer: (name) => `https://${name}-control-plane:6443`,
    });
    expect(m.clusters[0]!.cluster.server).toBe('https://c-control-plane:6443');
  });

  it('says which file and context is broken', () => {
    expect(() => mergeKubeconfigs([{ clusterName: 'c', text: kindFile('c', 1), context: 'nope' }])).toThrow(
      /kubeconfig of c: context "nope" not found/,
    );
    expect(() => mergeKubeconfigs([{ clusterName: 'c', text: '' }])).toThrow(/empty/);
    expect(() =>
      mergeKubeconfigs([
        { clusterName: 'c', text: kindFile('c', 1) },
        { clusterName: 'c', text: kindFile('c', 2) },
      ]),
    ).toThrow(/duplicate/);
  });
});
