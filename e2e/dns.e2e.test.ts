import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentSection } from '../src/dns/corefile.ts';
import { run } from '../src/kube/exec.ts';
import { patchStatus } from '../src/kube/resources.ts';
import { fedctlOk } from '../testbed/harness/fedctl.ts';
import { type Federation, startFederation } from '../testbed/harness/federation.ts';
import { apply, clusterApi, mergePatch, read, remove } from '../testbed/harness/kube.ts';
import type { E2ETestbed } from '../testbed/harness/testbed.ts';
import { waitFor } from '../testbed/harness/wait.ts';
import { resolveA } from '../testbed/index.ts';

// Cross-cluster DNS and node routes on real clusters, in both layouts: distinct cluster domains
// (cluster0.local, cluster1.local, …) and one shared cluster.local with a namespace per cluster
// (the TiDB-on-EKS layout). cluster0 is the host; every cluster is a member.

const NS = 'kube-federation-system';
const SERVICE_REF = { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true };
const INGRESS_REF = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  namespaced: true,
};
const DNS = 'multiclusterdns.kubefed.io/v1alpha1';

type DnsRecordObject = KubernetesObject & {
  status?: {
    dns?: Array<{ cluster: string; region?: string; zones?: string[] }>;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  };
};

describe.each(['distinct', 'shared'] as const)('cross-cluster DNS with %s cluster domains', (layout) => {
  let fed: Federation;
  let tb: E2ETestbed;
  let kubeconfig: string;
  let host: KubernetesObjectApi;
  let api: Record<string, KubernetesObjectApi>;
  let failed = false;
  /** Each Corefile before fedctl wrote anything. */
  const original: Record<string, string> = {};
  const dnsOf = (c: string) => tb.status.clusters.find((x) => x.name === c)!.dns;
  const domainOf = (c: string) => tb.status.clusters.find((x) => x.name === c)!.domain;
  const corefile = async (c: string) =>
    (
      (await read(api[c]!, 'v1', 'ConfigMap', 'coredns', 'kube-system')) as
        | { data?: { Corefile?: string } }
        | undefined
    )?.data?.Corefile ?? '';
  const recordStatus = (name: string, ns: string) =>
    read<DnsRecordObject>(host, DNS, 'ServiceDNSRecord', name, ns).then((r) => r?.status);
  const condition = async (name: string, ns: string, type: string) =>
    (await recordStatus(name, ns))?.conditions?.find((c) => c.type === type);

  /** The TiDB check's objects in one cluster: a pod with hostname/subdomain and its headless Service. */
  async function samplePeer(cluster: string, namespace: string) {
    await apply(api[cluster]!, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await apply(api[cluster]!, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'sample-nginx-peer', namespace },
      spec: {
        clusterIP: 'None',
        selector: { app: 'sample-nginx' },
        ports: [{ name: 'http', port: 80 }],
        publishNotReadyAddresses: true,
      },
    } as KubernetesObject);
    await apply(api[cluster]!, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sample-nginx', namespace, labels: { app: 'sample-nginx' } },
      spec: {
        hostname: 'sample-nginx',
        subdomain: 'sample-nginx-peer',
        containers: [{ name: 'nginx', image: 'nginx' }],
      },
    } as KubernetesObject);
    return waitFor(
      `pod ${cluster}/${namespace}/sample-nginx to get an IP`,
      async () => {
        const p = await read<
          KubernetesObject & { status?: { podIP?: string }; spec?: { nodeName?: string } }
        >(api[cluster]!, 'v1', 'Pod', 'sample-nginx', namespace);
        return p?.status?.podIP && p.spec?.nodeName
          ? { ip: p.status.podIP, node: p.spec.nodeName }
          : undefined;
      },
      { timeoutMs: 60_000 },
    );
  }

  /** The testbed's status JSON as a file: `fedctl routes --netns-map` reads node namespaces from it. */
  const netnsMap = () => {
    const file = join(tb.stateDir, 'status-for-routes.json');
    writeFileSync(file, JSON.stringify(tb.status));
    return file;
  };
  const nsOf = (cluster: string) => (layout === 'shared' ? `tidb-${cluster}` : 'tidb');
  const peerName = (cluster: string) =>
    `sample-nginx.sample-nginx-peer.${nsOf(cluster)}.svc.${domainOf(cluster)}`;

  beforeAll(async () => {
    fed = await startFederation({ name: `dns-${layout}`, clusterDomain: layout });
    ({ tb, kubeconfig, host, api } = fed);
    for (const c of tb.status.clusters) original[c.name] = await corefile(c.name);
    await waitFor('Domain CRD served', async () => {
      await apply(host, {
        apiVersion: DNS,
        kind: 'Domain',
        metadata: { name: 'fed', namespace: NS },
        domain: 'example.org',
        nameServer: 'ns1.example.org',
      } as KubernetesObject);
      return true;
    });
  }, 900_000);

  afterAll(async () => {
    await fed?.stop(failed);
  }, 300_000);

  const tracked = (fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (e) {
      failed = true;
      throw e;
    }
  };

  it(
    'resolves a pod of cluster1 from cluster0 and reaches it over the applied node routes',
    tracked(async () => {
      await samplePeer('cluster0', nsOf('cluster0'));
      const pod1 = await samplePeer('cluster1', nsOf('cluster1'));
      // The record lives in the host, in the namespace of the Service it names.
      await apply(host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: nsOf('cluster1') } });
      await apply(host, {
        apiVersion: DNS,
        kind: 'ServiceDNSRecord',
        metadata: { name: 'sample-nginx-peer', namespace: nsOf('cluster1') },
        spec: { domainRef: 'fed', recordTTL: 60 },
      } as KubernetesObject);

      // Before: cluster0's CoreDNS cannot answer for cluster1. After: it forwards and answers.
      const answer = await waitFor(
        `${peerName('cluster1')} to resolve through cluster0's CoreDNS`,
        async () => {
          const ips = await resolveA(dnsOf('cluster0'), peerName('cluster1'));
          return ips.length > 0 ? ips : undefined;
        },
        { timeoutMs: 60_000 },
      );
      expect(answer).toEqual([pod1.ip]);
      const fwd = await waitFor('ForwardZonesConfigured True', async () => {
        const c = await condition('sample-nginx-peer', nsOf('cluster1'), 'ForwardZonesConfigured');
        return c?.status === 'True' ? c : undefined;
      });
      expect(fwd.message).toContain('cluster1');
      // `fedctl dns check` agrees that every live section is what fedctl wants.
      const check = await fedctlOk(['dns', 'check', '--host-cluster-context', 'cluster0'], { kubeconfig });
      expect(check.stdout).toMatch(/cluster0\s+in sync/);
      const st = await recordStatus('sample-nginx-peer', nsOf('cluster1'));
      expect(st?.dns?.find((d) => d.cluster === 'cluster1')).toMatchObject({
        region: 'region-1',
        zones: ['region-1-a'],
      });

      // Routes between node namespaces, planned from the Node objects and applied by `fedctl routes`.
      const contexts = 'cluster0,cluster1,cluster2';
      const first = await fedctlOk(
        ['routes', '--contexts', contexts, '--apply', '--via', 'netns', '--netns-map', netnsMap()],
        {
          kubeconfig,
        },
      );
      expect(first.stdout).toMatch(/added|replaced|created/i);
      const again = await fedctlOk(['routes', '--contexts', contexts, '--apply', '--via', 'netns'], {
        kubeconfig,
      });
      expect(again.stdout).not.toMatch(/\b(added|created)\b/i);

      // A listener on the pod's address inside cluster1's node namespace, a client in cluster0's.
      const node1 = tb.status.clusters[1]!.nodes.find((n) => n.name === pod1.node)!;
      const node0 = tb.status.clusters[0]!.nodes[0]!;
      const listener = run(
        'ip',
        [
          'netns',
          'exec',
          node1.netns!,
          process.execPath,
          '-e',
          `const srv = require('net').createServer((s) => { s.end('hello from cluster1\\n'); srv.close(); }).listen(80, '${pod1.ip}', () => console.log('listening')); setTimeout(() => process.exit(0), 20000).unref();`,
        ],
        { timeoutMs: 25_000 },
      );
      await new Promise((r) => setTimeout(r, 1000));
      const client = await run(
        'ip',
        [
          'netns',
          'exec',
          node0.netns!,
          process.execPath,
          '-e',
          `const s = require('net').connect(80, '${answer[0]}'); s.setTimeout(5000, () => process.exit(3)); s.on('data', (d) => { process.stdout.write(d); process.exit(0); }); s.on('error', (e) => { console.error(e.message); process.exit(2); });`,
        ],
        { timeoutMs: 15_000 },
      );
      expect(client.stdout).toContain('hello from cluster1');
      await listener.catch(() => undefined);
    }),
  );

  it(
    'never writes fewer zones and keeps resolving while the controller restarts and its leader is killed',
    tracked(async () => {
      const members = ['cluster0', 'cluster1', 'cluster2'];
      // Server blocks in fedctl's section: forward zones plus federation zones.
      const zones = async (c: string) =>
        currentSection(await corefile(c))
          .split('\n')
          .filter((l) => /^\S.*\{\s*$/.test(l)).length;
      const name = peerName('cluster1');
      await waitFor(
        `${name} from cluster0`,
        async () => (await resolveA(dnsOf('cluster0'), name)).length > 0,
        {
          timeoutMs: 60_000,
        },
      );
      const before = Object.fromEntries(
        await Promise.all(members.map(async (c) => [c, await zones(c)] as const)),
      );
      expect(before.cluster0).toBeGreaterThan(0);
      const fewer: string[] = [];
      const unresolved: string[] = [];
      let polls = 0;
      let polling = true;
      // Every 200 ms: each member's section, and the cross-cluster name through cluster0's CoreDNS.
      const poller = (async () => {
        while (polling) {
          const started = Date.now();
          for (const c of members) {
            const n = await zones(c);
            if (n < (before[c] ?? 0)) fewer.push(`${c}: ${n} < ${before[c]} at poll ${polls}`);
          }
          if ((await resolveA(dnsOf('cluster0'), name)).length === 0) unresolved.push(`poll ${polls}`);
          polls++;
          await new Promise((r) => setTimeout(r, Math.max(0, 200 - (Date.now() - started))));
        }
      })();
      const leading = (c: { tail(n: number): string }) => /became leader/.test(c.tail(400));
      try {
        // Restart: the new process starts with empty caches and must not write from them.
        await fed.controller.stop();
        const second = fed.startController(`controller-restart-${layout}.log`);
        await waitFor('the restarted controller to lead', async () => leading(second), { timeoutMs: 90_000 });
        await new Promise((r) => setTimeout(r, 10_000));
        // Failover: a standby waits on the lease; the leader dies without releasing it.
        const standby = fed.startController(`controller-standby-${layout}.log`);
        await new Promise((r) => setTimeout(r, 5_000));
        await second.kill();
        await waitFor('the standby to take over', async () => leading(standby), { timeoutMs: 90_000 });
        await new Promise((r) => setTimeout(r, 10_000));
      } finally {
        polling = false;
        await poller;
      }
      expect(polls).toBeGreaterThan(50);
      expect(fewer).toEqual([]);
      expect(unresolved).toEqual([]);
    }),
  );

  it(
    'serves the federation zone from Service and Ingress DNS records without ExternalDNS',
    tracked(async () => {
      // A LoadBalancer Service whose ingress address is documentation space (never contacted: only DNS answers it).
      const ns = nsOf('cluster1');
      await apply(api.cluster1!, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: ns },
        spec: { type: 'LoadBalancer', selector: { app: 'sample-nginx' }, ports: [{ port: 80 }] },
      } as KubernetesObject);
      // Status is a subresource: a patch of the Service itself would drop it.
      await patchStatus(clusterApi(kubeconfig, 'cluster1').kc, SERVICE_REF, 'web', ns, {
        loadBalancer: { ingress: [{ ip: '198.51.100.7' }] },
      });
      await apply(host, {
        apiVersion: DNS,
        kind: 'ServiceDNSRecord',
        metadata: { name: 'web', namespace: ns },
        spec: { domainRef: 'fed', recordTTL: 60, allowServiceWithoutEndpoints: true },
      } as KubernetesObject);
      const name = `web.${ns}.fed.svc.example.org`;
      const ips = await waitFor(
        `${name} from cluster2's CoreDNS`,
        async () => {
          const a = await resolveA(dnsOf('cluster2'), name);
          return a.length > 0 ? a : undefined;
        },
        { timeoutMs: 60_000 },
      );
      expect(ips).toEqual(['198.51.100.7']);
      await remove(host, DNS, 'ServiceDNSRecord', 'web', ns);

      // IngressDNSRecord: the hosts of a same-named Ingress get A records of its load balancers.
      await apply(api.cluster1!, {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'shop', namespace: ns },
        spec: {
          rules: [
            {
              host: 'shop.example.org',
              http: {
                paths: [
                  {
                    path: '/',
                    pathType: 'Prefix',
                    backend: { service: { name: 'web', port: { number: 80 } } },
                  },
                ],
              },
            },
          ],
        },
      } as KubernetesObject);
      await patchStatus(clusterApi(kubeconfig, 'cluster1').kc, INGRESS_REF, 'shop', ns, {
        loadBalancer: { ingress: [{ ip: '198.51.100.8' }] },
      });
      await apply(host, {
        apiVersion: DNS,
        kind: 'IngressDNSRecord',
        metadata: { name: 'shop', namespace: ns },
        spec: { hosts: ['shop.example.org'], recordTTL: 60 },
      } as KubernetesObject);
      const shop = await waitFor(
        "shop.example.org from cluster2's CoreDNS",
        async () => {
          const a = await resolveA(dnsOf('cluster2'), 'shop.example.org');
          return a.length > 0 ? a : undefined;
        },
        { timeoutMs: 60_000 },
      );
      expect(shop).toEqual(['198.51.100.8']);
      await remove(host, DNS, 'IngressDNSRecord', 'shop', ns);
    }),
  );

  it(
    'refuses a zone the Corefile already serves, with a reason, and leaves that Corefile untouched',
    tracked(async () => {
      const zone = layout === 'shared' ? `${nsOf('cluster1')}.svc.cluster.local` : domainOf('cluster1');
      const cm = (await read(api.cluster2!, 'v1', 'ConfigMap', 'coredns', 'kube-system'))!;
      const port = dnsOf('cluster2').split(':')[1];
      // An operator's own block for the same zone, outside fedctl's section.
      const own = `${(await corefile('cluster2')).replace(/# fedctl:begin[\s\S]*# fedctl:end\n?/, '')}${zone}:${port} {\n    bind 127.0.0.1\n    errors\n}\n`;
      await mergePatch(api.cluster2!, cm, { data: { Corefile: own } });
      await fedctlOk(['get', 'clusters', '--host-cluster-context', 'cluster0'], { kubeconfig });
      const c = await waitFor(
        'ForwardZonesConfigured False',
        async () => {
          const x = await condition('sample-nginx-peer', nsOf('cluster1'), 'ForwardZonesConfigured');
          return x?.status === 'False' ? x : undefined;
        },
        { timeoutMs: 90_000 },
      );
      expect(c.message).toContain('cluster2');
      expect(await corefile('cluster2')).toBe(own);
      // cluster0 keeps resolving: one bad cluster does not stop the others.
      expect((await resolveA(dnsOf('cluster0'), peerName('cluster1'))).length).toBe(1);
      // Restore the operator's Corefile without the clashing block.
      await mergePatch(api.cluster2!, cm, {
        data: {
          Corefile: own.replace(new RegExp(`${zone.replaceAll('.', '\\.')}:${port} \\{[\\s\\S]*$`), ''),
        },
      });
      await waitFor(
        'ForwardZonesConfigured True again',
        async () =>
          (await condition('sample-nginx-peer', nsOf('cluster1'), 'ForwardZonesConfigured'))?.status ===
          'True',
        { timeoutMs: 90_000 },
      );
    }),
  );

  it(
    'refuses a hostile cluster domain and an unknown DNS address with reasons, writing no block for them',
    tracked(async () => {
      // cluster2 serves a recorded Service too (in its own namespace where namespaces differ by
      // cluster), but nobody can tell where its DNS answers.
      await samplePeer('cluster2', nsOf('cluster2'));
      await apply(host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: nsOf('cluster2') } });
      await apply(host, {
        apiVersion: DNS,
        kind: 'ServiceDNSRecord',
        metadata: { name: 'sample-nginx-peer', namespace: nsOf('cluster2') },
        spec: { domainRef: 'fed' },
      } as KubernetesObject);
      await remove(api.cluster2!, 'v1', 'Service', 'cross-cluster-dns', 'kube-system');
      const noAddress = await waitFor(
        'NoDnsAddress reported',
        async () => {
          const c = await condition('sample-nginx-peer', nsOf('cluster2'), 'ForwardZonesConfigured');
          return c?.status === 'False' && /NoDnsAddress/.test(`${c.reason} ${c.message}`) ? c : undefined;
        },
        { timeoutMs: 90_000 },
      );
      expect(noAddress.message).toContain('cluster2');
      // A hostile domain on cluster1's KubeFedCluster: refused, nothing of it reaches a Corefile.
      const kfc = (await read(host, 'core.kubefed.io/v1beta1', 'KubeFedCluster', 'cluster1', NS))!;
      await mergePatch(host, kfc, {
        metadata: { annotations: { 'fedctl.io/cluster-domain': 'evil.com {\n  forward . 203.0.113.9\n}' } },
      });
      const hostile = await waitFor(
        'the hostile domain reported',
        async () => {
          const c = await condition('sample-nginx-peer', nsOf('cluster1'), 'ForwardZonesConfigured');
          return c?.status === 'False' && /evil/.test(c.message ?? '') ? c : undefined;
        },
        { timeoutMs: 90_000 },
      );
      expect(hostile.message).toContain('cluster1');
      for (const c of ['cluster0', 'cluster1', 'cluster2']) expect(await corefile(c)).not.toContain('evil');
      await mergePatch(host, kfc, { metadata: { annotations: { 'fedctl.io/cluster-domain': null } } });
    }),
  );

  it(
    'removes the blocks when the last record is deleted, and restores Corefiles byte for byte on unjoin and when the Domain goes',
    tracked(async () => {
      for (const ns of new Set([nsOf('cluster1'), nsOf('cluster2')]))
        await remove(host, DNS, 'ServiceDNSRecord', 'sample-nginx-peer', ns);
      const forwardZone =
        layout === 'shared' ? `${nsOf('cluster1')}.svc.cluster.local:` : `${domainOf('cluster1')}:`;
      await waitFor(
        `the ${forwardZone} block gone from cluster0`,
        async () => !(await corefile('cluster0')).includes(forwardZone),
        { timeoutMs: 60_000 },
      );
      await waitFor(
        `${peerName('cluster1')} to stop resolving from cluster0`,
        async () => (await resolveA(dnsOf('cluster0'), peerName('cluster1'))).length === 0,
        { timeoutMs: 60_000 },
      );
      // Unjoining a cluster removes fedctl's section from its own Corefile.
      expect(await corefile('cluster1')).toContain('fedctl:begin');
      await fedctlOk(
        ['unjoin', 'cluster1', '--cluster-context', 'cluster1', '--host-cluster-context', 'cluster0'],
        { kubeconfig },
      );
      expect(await corefile('cluster1')).toBe(original.cluster1);
      // Without a Domain nothing is left to serve: the section goes and the original bytes are back.
      await remove(host, DNS, 'Domain', 'fed', NS);
      for (const c of ['cluster0']) {
        await waitFor(
          `${c}'s Corefile back to its original bytes`,
          async () => (await corefile(c)) === original[c],
          { timeoutMs: 60_000 },
        );
      }
      const removed = await fedctlOk(
        ['routes', '--contexts', 'cluster0,cluster1,cluster2', '--delete', '--via', 'netns'],
        { kubeconfig },
      );
      expect(removed.stdout).toMatch(/deleted/);
    }),
  );
});
