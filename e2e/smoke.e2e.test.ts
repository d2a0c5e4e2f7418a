// Smoke test of the testbed itself: three clusters in a private state directory, checked the way a
// user would look at them (API answers, Ready nodes, an Available Deployment, DNS answers, TCP between
// node namespaces), then torn down without leftovers. FEDCTL_PROVIDER=kind runs it on kind.

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, VersionApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cidrContains, nthAddress, parseCidr } from '../testbed/cidr.ts';
import { resolveA } from '../testbed/dns-query.ts';
import {
  diagnostics,
  down,
  kubeConfigFor,
  providerFromEnv,
  readTestbedState,
  startClusterApiServer,
  stopClusterApiServer,
  type TestbedState,
  type TestbedStatus,
  up,
} from '../testbed/index.ts';
import { listNetns } from '../testbed/netns.ts';
import { connectFromNetns, listenInNetns } from '../testbed/netns-exec.ts';
import { isRunning } from '../testbed/processes.ts';
import { allProcesses } from '../testbed/state.ts';

const provider = providerFromEnv();
const stateDir = mkdtempSync(join(tmpdir(), 'fedctl-smoke-'));
const log = (line: string) => process.stderr.write(`[smoke] ${line}\n`);

let status: TestbedStatus;
let state: TestbedState;
let tornDown = false;
let dumped = false;

async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(250);
  }
}

const core = (name: string) => kubeConfigFor(status, name).makeApiClient(CoreV1Api);
const apps = (name: string) => kubeConfigFor(status, name).makeApiClient(AppsV1Api);
const cluster = (name: string) => status.clusters.find((c) => c.name === name)!;

beforeAll(async () => {
  const t0 = Date.now();
  status = await up({ stateDir, clusters: 3, nodes: 2, clusterDomain: 'distinct', provider, log });
  log(`up took ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  state = await readTestbedState({ stateDir });
});

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail' && !dumped && state) {
    dumped = true;
    process.stderr.write(`[smoke] diagnostics after "${task.name}" failed:\n${diagnostics(state, 20)}\n`);
  }
});

afterAll(async () => {
  if (!tornDown) await down({ stateDir, log }).catch((e) => log(`cleanup failed: ${(e as Error).message}`));
});

describe(`testbed smoke (${provider})`, () => {
  it('reports three clusters with non-overlapping ranges and a context each', () => {
    expect(status.clusters.map((c) => c.name)).toEqual(['cluster0', 'cluster1', 'cluster2']);
    expect(status.clusters.map((c) => c.context)).toEqual(['cluster0', 'cluster1', 'cluster2']);
    expect(status.clusters.map((c) => c.domain)).toEqual([
      'cluster0.local',
      'cluster1.local',
      'cluster2.local',
    ]);
    expect(new Set(status.clusters.map((c) => c.podCIDR)).size).toBe(3);
    expect(new Set(status.clusters.map((c) => c.serviceCIDR)).size).toBe(3);
    for (const c of status.clusters) expect(c.dns).toMatch(/^[\d.]+:\d+$/);
  });

  it('answers on every context', async () => {
    for (const c of status.clusters) {
      const v = await kubeConfigFor(status, c.name).makeApiClient(VersionApi).getCode();
      expect(v.gitVersion, c.name).toMatch(/^v1\.\d+/);
      const ns = await core(c.name).listNamespace();
      expect(ns.items.map((n) => n.metadata?.name)).toContain('kube-system');
    }
  });

  it('has Ready nodes with podCIDRs inside the cluster range and the recorded InternalIP', async () => {
    for (const c of status.clusters) {
      const nodes = (await core(c.name).listNode()).items;
      expect(nodes.length, c.name).toBe(provider === 'kind' ? 3 : 2);
      for (const n of nodes) {
        const name = n.metadata!.name!;
        expect(n.status?.conditions?.find((x) => x.type === 'Ready')?.status, name).toBe('True');
        const podCIDR = n.spec?.podCIDR ?? '';
        expect(cidrContains(parseCidr(c.podCIDR), podCIDR.split('/')[0]!), `${name} ${podCIDR}`).toBe(true);
        const rec = c.nodes.find((x) => x.name === name)!;
        expect(rec.podCIDR).toBe(podCIDR);
        expect(n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address).toBe(rec.ip);
        expect(n.metadata?.labels?.['topology.kubernetes.io/region']).toBe(`region-${c.name.slice(-1)}`);
        if (provider === 'local') expect(n.metadata?.labels?.type).toBe('kwok');
      }
    }
  });

  it('runs a Deployment in cluster1 to Available with Ready pods on node pod ranges', async () => {
    const ns = 'smoke';
    await core('cluster1').createNamespace({ body: { metadata: { name: ns } } });
    await apps('cluster1').createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.10' }] },
          },
        },
      },
    });
    await eventually('deployment web Available', async () => {
      const d = await apps('cluster1').readNamespacedDeployment({ name: 'web', namespace: ns });
      const available = d.status?.conditions?.find((c) => c.type === 'Available')?.status === 'True';
      return available && d.status?.readyReplicas === 3;
    });
    const pods = (await core('cluster1').listNamespacedPod({ namespace: ns })).items;
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.status?.phase).toBe('Running');
      expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      const node = cluster('cluster1').nodes.find((n) => n.name === p.spec?.nodeName)!;
      expect(
        cidrContains(parseCidr(node.podCIDR), p.status!.podIP!),
        `${p.metadata?.name} ${p.status?.podIP}`,
      ).toBe(true);
    }
  });

  it('finishes deleting a namespace', async () => {
    await core('cluster1').deleteNamespace({ name: 'smoke' });
    await eventually(
      'namespace smoke gone',
      async () => {
        try {
          await core('cluster1').readNamespace({ name: 'smoke' });
          return false;
        } catch (e) {
          return (e as { code?: number }).code === 404;
        }
      },
      90_000,
    );
  });

  it("answers DNS for each cluster's kubernetes Service and publishes the address in cross-cluster-dns", async () => {
    for (const c of status.clusters) {
      const apiIP = nthAddress(parseCidr(c.serviceCIDR), 1);
      const ips = await eventually(`${c.name} DNS`, async () => {
        const r = await resolveA(c.dns, `kubernetes.default.svc.${c.domain}`, {
          allowPrivate: provider === 'kind',
        });
        return r.length > 0 ? r : undefined;
      });
      expect(ips, c.name).toEqual([apiIP]);
      const svc = await core(c.name).readNamespacedService({
        name: 'cross-cluster-dns',
        namespace: 'kube-system',
      });
      expect(svc.metadata?.labels?.['fedctl.io/cross-cluster-dns']).toBe('true');
      const ingress = svc.status?.loadBalancer?.ingress?.[0];
      expect(`${ingress?.ip}:${ingress?.ports?.[0]?.port}`).toBe(c.dns);
      expect(ingress?.ports?.[0]?.protocol).toBe('UDP');
    }
  });

  it.runIf(provider === 'local')('applies Corefile edits made through the coredns ConfigMap', async () => {
    const c = cluster('cluster0');
    const cm = await core('cluster0').readNamespacedConfigMap({ name: 'coredns', namespace: 'kube-system' });
    const port = c.dns.split(':')[1];
    const block = [
      '# smoke begin',
      `smoke.test:${port} {`,
      '    bind 127.0.0.1',
      '    template IN A smoke.test {',
      '        answer "{{ .Name }} 60 IN A 127.0.0.42"',
      '    }',
      '}',
      '# smoke end',
      '',
    ].join('\n');
    await core('cluster0').patchNamespacedConfigMap({
      name: 'coredns',
      namespace: 'kube-system',
      body: [{ op: 'replace', path: '/data/Corefile', value: `${cm.data!.Corefile}${block}` }],
    });
    const ips = await eventually(
      'CoreDNS reload',
      async () => {
        const r = await resolveA(c.dns, 'probe.smoke.test', { timeoutMs: 500, retries: 0 });
        return r.length > 0 ? r : undefined;
      },
      30_000,
    );
    expect(ips).toEqual(['127.0.0.42']);

    // A Corefile that would send queries off the machine is refused; CoreDNS keeps the last good one.
    await core('cluster0').patchNamespacedConfigMap({
      name: 'coredns',
      namespace: 'kube-system',
      body: [
        {
          op: 'replace',
          path: '/data/Corefile',
          value: `${cm.data!.Corefile}${block}`.replace(
            '    cache 30',
            '    forward . /etc/resolv.conf\n    cache 30',
          ),
        },
      ],
    });
    const rejected = join(
      state.clusters.find((x) => x.name === 'cluster0')!.dir,
      'coredns',
      'Corefile.rejected',
    );
    const why = await eventually('refusal of the unsafe Corefile', async () =>
      existsSync(rejected) ? readFileSync(rejected, 'utf8') : undefined,
    );
    expect(why).toMatch(/forward to \/etc\/resolv\.conf leaves loopback/);
    expect(await resolveA(c.dns, 'probe.smoke.test')).toEqual(['127.0.0.42']);
  });

  it.runIf(provider === 'local')(
    'carries TCP between node namespaces: node IPs on the fabric, pod IPs within a cluster',
    async () => {
      const [n0, n1] = cluster('cluster0').nodes;
      const other = cluster('cluster1').nodes[0]!;
      const podIP = nthAddress(parseCidr(n0!.podCIDR), 200);
      const onPod = await listenInNetns(n0!.netns!, podIP, 8080, 'pod-of-cluster0-node0');
      const onNode = await listenInNetns(n0!.netns!, n0!.ip, 8081, 'cluster0-node0');
      try {
        expect(await connectFromNetns(n1!.netns!, podIP, 8080)).toBe('pod-of-cluster0-node0');
        expect(await connectFromNetns(other.netns!, n0!.ip, 8081)).toBe('cluster0-node0');
        // Between clusters there is no pod route until fedctl adds one.
        await expect(connectFromNetns(other.netns!, podIP, 8080)).rejects.toThrow(
          /ENETUNREACH|EHOSTUNREACH|timeout/,
        );
      } finally {
        onPod.close();
        onNode.close();
      }
    },
  );

  it.runIf(provider === 'local')('restarts a stopped API server on the same port with its data', async () => {
    await core('cluster2').createNamespace({ body: { metadata: { name: 'survives' } } });
    await stopClusterApiServer('cluster2', { stateDir, log, hard: true });
    await expect(core('cluster2').listNamespace()).rejects.toThrow();
    await startClusterApiServer('cluster2', { stateDir, log });
    const ns = await core('cluster2').readNamespace({ name: 'survives' });
    expect(ns.metadata?.name).toBe('survives');
    state = await readTestbedState({ stateDir });
  });

  it('tears down without leaving processes, network namespaces or the state directory', async () => {
    state = await readTestbedState({ stateDir });
    const procs = allProcesses(state);
    expect(procs.length).toBeGreaterThan(0);
    const result = await down({ stateDir, log });
    tornDown = true;
    expect(result.survivors).toEqual([]);
    const alive = procs.filter((p) => isRunning(p)).map((p) => `${p.name} (${p.pid})`);
    expect(alive).toEqual([]);
    if (provider === 'local') {
      const left = (await listNetns()).filter((n) => n.startsWith(`fedtb-${state.id}-`));
      expect(left).toEqual([]);
    }
    expect(existsSync(stateDir)).toBe(false);
    const again = await down({ stateDir, log });
    expect(again.removed).toBe(false);
  });
});
