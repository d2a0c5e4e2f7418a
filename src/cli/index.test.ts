import { describe, expect, it } from 'vitest';
import { FakeCluster } from '../testing/fake-cluster.ts';
import { run } from './index.ts';
import { type CliContext, UserError } from './options.ts';

const NS = 'kube-federation-system';

function cli(clusters: FakeCluster[], current = 'cluster0') {
  const out: string[] = [];
  const err: string[] = [];
  const byName = new Map(clusters.map((c) => [c.name, c]));
  const ctx: CliContext = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    connect: ({ context }) => {
      const c = byName.get(context ?? current);
      if (!c) throw new UserError(`context "${context}" not found in kubeconfig`, { exitCode: 2 });
      return c.clients();
    },
    currentContext: () => current,
    version: '9.9.9',
  };
  return {
    run: async (...args: string[]) => {
      out.length = 0;
      err.length = 0;
      const code = await run(['node', 'fedctl', ...args], ctx);
      return { code, stdout: out.join(''), stderr: err.join('') };
    },
  };
}

describe('fedctl command line', () => {
  it('joins a cluster and prints each object with its outcome as JSON on stdout', async () => {
    const host = new FakeCluster('cluster0');
    const member = new FakeCluster('cluster1');
    const r = await cli([host, member]).run(
      'join',
      'cluster1',
      '--cluster-context',
      'cluster1',
      '-o',
      'json',
    );

    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.hostClusterName).toBe('cluster0');
    expect(result.objects).toHaveLength(8);
    expect(r.stderr).toBe('cluster cluster1 joined to host cluster0 (8 created, 0 updated, 0 unchanged)\n');
  });

  it('defaults the member context to the cluster name and the host name to the host context', async () => {
    const host = new FakeCluster('cluster0');
    const member = new FakeCluster('cluster1');
    const r = await cli([host, member]).run('join', 'cluster1');
    expect(r.code).toBe(0);
    expect(member.get('ServiceAccount', 'cluster1-cluster0', NS)).toBeDefined();
    expect(r.stdout.split('\n')[0]).toMatch(/^SIDE +CLUSTER +KIND +NAMESPACE +NAME +RESULT$/);
  });

  it('fails with exit code 2 and a hint when the host context name cannot name a ServiceAccount', async () => {
    const host = new FakeCluster('kubernetes-admin@kubernetes');
    const r = await cli([host, new FakeCluster('cluster1')], host.name).run('join', 'cluster1');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('set --host-cluster-name');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a second join by default, as kubefedctl, in one line with exit code 1', async () => {
    const c = cli([new FakeCluster('cluster0'), new FakeCluster('cluster1')]);
    expect((await c.run('join', 'cluster1')).code).toBe(0);
    const r = await c.run('join', 'cluster1');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: KubeFedCluster ${NS}/cluster1 in host cluster cluster0, ServiceAccount ${NS}/cluster1-cluster0 in member cluster cluster1, ClusterRole kubefed-controller-manager:cluster1-cluster0 in member cluster cluster1, ClusterRoleBinding kubefed-controller-manager:cluster1-cluster0 in member cluster cluster1 already exist (--error-on-existing, on by default as in kubefedctl); nothing was changed. Unjoin first, or pass --error-on-existing=false to update them in place\n`,
    );
    const again = await c.run('join', 'cluster1', '--error-on-existing=false');
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('(0 created, 0 updated, 8 unchanged)');
  });

  it('prints the stack trace only with -v', async () => {
    const host = new FakeCluster('cluster0');
    host.crdInstalled = false;
    host.crdCreateForbidden = true;
    const c = cli([host, new FakeCluster('cluster1')]);
    const quiet = await c.run('join', 'cluster1');
    expect(quiet.stderr).not.toContain('    at ');
    const loud = await c.run('join', 'cluster1', '-v');
    expect(loud.stderr).toContain('    at ');
    expect(loud.stderr).toContain('KubeFedCluster CRD not installed in host cluster cluster0');
  });

  it('lists clusters like kubectl get kubefedclusters', async () => {
    const host = new FakeCluster('cluster0');
    const c = cli([host, new FakeCluster('cluster1')]);
    await c.run('join', 'cluster0');
    await c.run('join', 'cluster1');
    const kfc = host.get('KubeFedCluster', 'cluster1', NS)!;
    host.put('KubeFedCluster', {
      ...kfc,
      metadata: { ...kfc.metadata, creationTimestamp: new Date(Date.now() - 90_000).toISOString() },
      status: {
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'Offline', status: 'False' },
        ],
        kubernetesVersion: 'v1.36.3',
      },
    });

    const r = await c.run('get', 'clusters');

    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      'NAME       AGE         READY     OFFLINE   KUBERNETES-VERSION   OBJECTS   FAILING',
      'cluster0   <unknown>   Unknown   Unknown                        0         0',
      expect.stringMatching(/^cluster1 {3}9\ds +True {6}False {5}v1\.36\.3 {14}0 {9}0$/),
      '',
    ]);
    const yaml = await c.run('get', 'clusters', 'cluster1', '-o', 'yaml');
    expect(yaml.stdout).toContain('kind: List');
    expect(yaml.stdout).toContain('kubernetesVersion: v1.36.3');
  });

  it('says which clusters are not found', async () => {
    const r = await cli([new FakeCluster('cluster0')]).run('get', 'clusters', 'nope');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: kubefedclusters "nope" not found in namespace ${NS}\n`);
  });

  it('treats unknown commands, missing arguments and bad output formats as usage errors (exit 2)', async () => {
    const c = cli([new FakeCluster('cluster0')]);
    expect((await c.run('bogus')).code).toBe(2);
    expect((await c.run('join')).code).toBe(2);
    const bad = await c.run('get', 'clusters', '-o', 'xml');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: unknown output format "xml" (use one of: table, json, yaml)\n');
  });

  it('prints help with examples on stdout and exits 0', async () => {
    const r = await cli([]).run('join', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('--host-cluster-context');
  });

  it('prints the client version without contacting a cluster', async () => {
    const r = await cli([]).run('version', '--client', '-o', 'json');
    expect(JSON.parse(r.stdout)).toEqual({ fedctl: '9.9.9' });
  });
});
