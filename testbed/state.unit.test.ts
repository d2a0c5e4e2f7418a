import { describe, expect, it } from 'vitest';
import { checkNodeCount, planClusters } from './plan.ts';
import { defaultStateDir, REPO_DIR, statusTable, type TestbedState, toStatus } from './state.ts';

const state = {
  kubeconfig: '/tb/kubeconfig',
  clusters: [
    {
      name: 'cluster0',
      index: 0,
      context: 'cluster0',
      server: 'https://127.0.0.1:40001',
      podCIDR: '10.100.0.0/16',
      serviceCIDR: '10.200.0.0/16',
      domain: 'cluster0.local',
      dns: '127.0.0.1:40053',
      dir: '/tb/clusters/cluster0',
      kubeconfig: '/tb/clusters/cluster0/kubeconfig',
      ports: null,
      processes: [{ name: 'cluster0/etcd', pid: 1, startTicks: 1, cmd: 'etcd', args: [], log: '/x' }],
      nodes: [
        { name: 'cluster0-node0', ip: '172.31.5.11', podCIDR: '10.100.0.0/24', netns: 'fedtb-0501-c0n0' },
      ],
    },
  ],
} as unknown as TestbedState;

describe('status shaping', () => {
  it('prints exactly the documented keys, in order, without internals', () => {
    const s = toStatus(state);
    expect(JSON.stringify(s)).toBe(
      '{"clusters":[{"name":"cluster0","context":"cluster0","server":"https://127.0.0.1:40001",' +
        '"podCIDR":"10.100.0.0/16","serviceCIDR":"10.200.0.0/16","domain":"cluster0.local","dns":"127.0.0.1:40053",' +
        '"nodes":[{"name":"cluster0-node0","ip":"172.31.5.11","podCIDR":"10.100.0.0/24","netns":"fedtb-0501-c0n0"}]}],' +
        '"kubeconfig":"/tb/kubeconfig"}',
    );
  });

  it('renders a table with one row per cluster', () => {
    const t = statusTable(toStatus(state), () => '6/6 running');
    expect(t.split('\n')[0]).toMatch(/^CLUSTER\s+SERVER\s+DOMAIN\s+DNS/);
    expect(t).toMatch(/cluster0\s+https:\/\/127\.0\.0\.1:40001\s+cluster0\.local\s+127\.0\.0\.1:40053/);
    expect(t).toMatch(/cluster0-node0=172\.31\.5\.11\(10\.100\.0\.0\/24\)\s+6\/6 running/);
    expect(t).toMatch(/kubeconfig: \/tb\/kubeconfig/);
  });

  it('keeps state in <repo>/.testbed unless FEDCTL_TESTBED_DIR says otherwise', () => {
    expect(defaultStateDir({})).toBe(`${REPO_DIR}/.testbed`);
    expect(defaultStateDir({ FEDCTL_TESTBED_DIR: '/tmp/tb-a' })).toBe('/tmp/tb-a');
  });
});

describe('cluster plan', () => {
  it('names clusters cluster0..N-1 with distinct or shared domains', () => {
    expect(planClusters(3, 'distinct').map((c) => c.domain)).toEqual([
      'cluster0.local',
      'cluster1.local',
      'cluster2.local',
    ]);
    expect(planClusters(2, 'shared').map((c) => c.domain)).toEqual(['cluster.local', 'cluster.local']);
    expect(planClusters(2, 'shared')[1]).toMatchObject({
      name: 'cluster1',
      apiServiceIP: '10.201.0.1',
      dnsServiceIP: '10.201.0.10',
      region: 'region-1',
      zone: 'region-1-a',
    });
  });

  it('refuses impossible sizes with the flag name', () => {
    expect(() => planClusters(0, 'shared')).toThrow(/--clusters/);
    expect(() => planClusters(2, 'weird' as 'shared')).toThrow(/--cluster-domain/);
    expect(() => checkNodeCount(11)).toThrow(/--nodes/);
  });
});
