import { describe, expect, it } from 'vitest';
import { FakeCluster } from '../testing/fake-cluster.ts';
import { joinCluster } from './join.ts';
import { unjoinCluster, unjoinPlan } from './unjoin.ts';

const NS = 'kube-federation-system';
const online = async () => ({ offline: false });
const offline = async () => ({ offline: true, error: 'connect ECONNREFUSED 127.0.0.1:6452' });

async function joined() {
  const host = new FakeCluster('cluster0');
  const member = new FakeCluster('cluster1');
  const base = {
    host: host.clients(),
    member: member.clients(),
    clusterName: 'cluster1',
    hostClusterName: 'cluster0',
  };
  await joinCluster(base);
  host.writes.length = 0;
  member.writes.length = 0;
  return { host, member, base };
}

describe('unjoinPlan', () => {
  it('removes member RBAC before the token, and the KubeFedCluster before its Secret', () => {
    expect(
      unjoinPlan('cluster1', 'cluster0', NS, 'cluster1').map((p) => `${p.side} ${p.kind} ${p.name}`),
    ).toEqual([
      'member ClusterRoleBinding kubefed-controller-manager:cluster1-cluster0',
      'member ClusterRole kubefed-controller-manager:cluster1-cluster0',
      'member Secret cluster1-cluster0',
      'member ServiceAccount cluster1-cluster0',
      `member Namespace ${NS}`,
      'host KubeFedCluster cluster1',
      'host Secret cluster1',
    ]);
  });
});

describe('unjoinCluster', () => {
  it('removes everything join created on both sides', async () => {
    const { host, member, base } = await joined();

    const result = await unjoinCluster({ ...base, probe: online });

    expect(member.writes).toEqual([
      'delete ClusterRoleBinding kubefed-controller-manager:cluster1-cluster0',
      'delete ClusterRole kubefed-controller-manager:cluster1-cluster0',
      `delete Secret ${NS}/cluster1-cluster0`,
      `delete ServiceAccount ${NS}/cluster1-cluster0`,
      `delete Namespace ${NS}`,
    ]);
    expect(host.writes).toEqual([`delete KubeFedCluster ${NS}/cluster1`, `delete Secret ${NS}/cluster1`]);
    expect(result.memberCleaned).toBe(true);
    expect(result.warnings).toEqual([]);
  });

  it('tolerates objects that are already gone, so it can be re-run', async () => {
    const { base } = await joined();
    await unjoinCluster({ ...base, probe: online });

    const again = await unjoinCluster({ ...base, probe: online });

    expect(again.objects.map((o) => o.outcome)).toEqual([
      'not-found',
      'not-found',
      'not-found',
      'not-found',
      'not-found',
      'not-found',
      'not-found',
    ]);
  });

  it('keeps the namespace when the member is the host itself', async () => {
    const host = new FakeCluster('cluster0');
    const c = host.clients();
    const base = { host: c, member: c, clusterName: 'cluster0', hostClusterName: 'cluster0' };
    await joinCluster(base);

    const result = await unjoinCluster({ ...base, probe: online });

    expect(result.objects.find((o) => o.kind === 'Namespace')).toMatchObject({
      outcome: 'kept',
      detail: "it is the host cluster's own namespace",
    });
    expect(host.get('Namespace', NS)).toBeDefined();
    expect(host.get('KubeFedCluster', 'cluster0', NS)).toBeUndefined();
  });

  it('keeps a member namespace that join did not create', async () => {
    const host = new FakeCluster('cluster0');
    const member = new FakeCluster('cluster1');
    member.put('Namespace', { metadata: { name: NS, uid: 'preexisting' } });
    const base = {
      host: host.clients(),
      member: member.clients(),
      clusterName: 'cluster1',
      hostClusterName: 'cluster0',
    };
    await joinCluster(base);

    const result = await unjoinCluster({ ...base, probe: online });

    expect(result.objects.find((o) => o.kind === 'Namespace')).toMatchObject({
      outcome: 'kept',
      detail: 'not created by fedctl join',
    });
  });

  it('keeps a member namespace that another host still uses', async () => {
    const { member, base } = await joined();
    member.put('ServiceAccount', { metadata: { name: 'cluster1-other', namespace: NS } });

    const result = await unjoinCluster({ ...base, probe: online });

    expect(result.objects.find((o) => o.kind === 'Namespace')).toMatchObject({
      outcome: 'kept',
      detail: 'still holds ServiceAccounts cluster1-other',
    });
  });

  it('refuses to remove anything when the member is unreachable and force is not set', async () => {
    const { host, member, base } = await joined();

    await expect(unjoinCluster({ ...base, probe: offline })).rejects.toThrow(
      /member cluster cluster1: cannot reach it: connect ECONNREFUSED .*nothing was removed. Re-run with --force/,
    );
    expect([...host.writes, ...member.writes]).toEqual([]);
  });

  it('with force removes the host side of an unreachable member and says what stayed behind', async () => {
    const { host, member, base } = await joined();
    member.unreachable = true;
    const warned: string[] = [];

    const result = await unjoinCluster({ ...base, force: true, probe: offline, warn: (m) => warned.push(m) });

    expect(host.writes).toEqual([`delete KubeFedCluster ${NS}/cluster1`, `delete Secret ${NS}/cluster1`]);
    expect(result.memberCleaned).toBe(false);
    expect(result.objects.filter((o) => o.side === 'member').every((o) => o.outcome === 'skipped')).toBe(
      true,
    );
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain('Left in cluster1: ServiceAccount kube-federation-system/cluster1-cluster0');
  });

  it('with force and no member context at all still cleans the host', async () => {
    const { host, base } = await joined();
    const { member: _, ...rest } = base;

    const result = await unjoinCluster({
      ...rest,
      force: true,
      memberError: 'context "cluster1" not found in kubeconfig',
    });

    expect(host.writes).toEqual([`delete KubeFedCluster ${NS}/cluster1`, `delete Secret ${NS}/cluster1`]);
    expect(result.warnings[0]).toContain('context "cluster1" not found in kubeconfig');
  });
});
