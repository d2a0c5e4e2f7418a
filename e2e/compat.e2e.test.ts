import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/kube/exec.ts';
import { ControllerProcess } from '../testbed/harness/fedctl.ts';
import { apply, clusterApi, read } from '../testbed/harness/kube.ts';
import { type E2ETestbed, startTestbed } from '../testbed/harness/testbed.ts';
import { waitFor } from '../testbed/harness/wait.ts';

// A script written for kubefedctl, run with `kubefedctl` aliased to fedctl, on two real local
// clusters (cluster0 host and member, cluster1 member) with `fedctl controller` running. Nothing is
// joined beforehand: the script's own join lines (the seed walkthrough's) do it.

const NS = 'kube-federation-system';
const cli = join(import.meta.dirname, '..', 'src', 'cli', 'index.ts');
const work = mkdtempSync(join(tmpdir(), 'fedctl-e2e-compat-'));
let tb: E2ETestbed;
let kubeconfig: string;
let host: KubernetesObjectApi;
let member1: KubernetesObjectApi;
let controller: ControllerProcess;
let failed = false;

/** Runs a bash script in which `kubefedctl` is fedctl; returns its exit code and output. */
async function kubefedctlScript(lines: string[]) {
  const script = join(work, `script-${Date.now()}.sh`);
  writeFileSync(
    script,
    [
      'set -euo pipefail',
      // The alias a user would add to keep their runbooks: every kubefedctl line now runs fedctl.
      'kubefedctl() { "$FEDCTL_NODE" "$FEDCTL_CLI" "$@"; }',
      ...lines,
      '',
    ].join('\n'),
  );
  const r = await run('bash', [script], {
    allowFailure: true,
    cwd: work,
    env: { FEDCTL_NODE: process.execPath, FEDCTL_CLI: cli, KUBECONFIG: kubeconfig, FEDCTL_LOG: 'text' },
    timeoutMs: 300_000,
  });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  tb = await startTestbed({ clusters: 2, nodes: 1, stateDir: join(work, 'testbed') });
  kubeconfig = tb.status.kubeconfig;
  host = clusterApi(kubeconfig, 'cluster0').api;
  member1 = clusterApi(kubeconfig, 'cluster1').api;
  controller = new ControllerProcess(join(work, 'controller.log'));
  controller.start(
    ['--host-cluster-context', 'cluster0', '--metrics-port', '0', '--coredns-binary', tb.binDir],
    kubeconfig,
  );
  await waitFor(
    'the controller to install the default FederatedTypeConfigs',
    () => read(host, 'core.kubefed.io/v1beta1', 'FederatedTypeConfig', 'configmaps', NS),
    { timeoutMs: 120_000 },
  );
}, 900_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') failed = true;
});

afterAll(async () => {
  if (failed)
    process.stderr.write(
      `\n--- controller log (tail) ---\n${controller?.tail(120)}\n--- testbed ---\n${await tb?.diagnostics()}\n`,
    );
  await controller?.stop();
  await tb?.down();
}, 300_000);

const managed = (o: KubernetesObject | undefined) => o?.metadata?.labels?.['kubefed.io/managed'];

describe('a kubefedctl script, with kubefedctl aliased to fedctl', () => {
  it('joins with the seed walkthrough lines; a dry run and -o yaml write nothing', async () => {
    const r = await kubefedctlScript([
      'kubefedctl join cluster0 --cluster-context cluster0 --host-cluster-context cluster0 --v=2',
      'kubefedctl join cluster1 --cluster-context cluster1 --host-cluster-context cluster0 --v=2 --error-on-existing=true',
      // kubefedctl's dry run: nothing happens in either cluster.
      'kubefedctl join cluster1 --cluster-context cluster1 --host-cluster-context cluster0 --kubefed-namespace dry-run-ns --dry-run',
      'kubefedctl enable cronjobs.batch --host-cluster-context cluster0 -o yaml > enable.yaml',
    ]);
    expect(r.code, r.stderr).toBe(0);
    // --v=2 is kubefedctl's verbose: the per-object steps are logged.
    expect(r.stderr).toContain(
      'member cluster1: ServiceAccount kube-federation-system/cluster1-cluster0 created',
    );
    for (const c of ['cluster0', 'cluster1'])
      await waitFor(
        `KubeFedCluster ${c} Ready`,
        async () => {
          const k = await read<
            KubernetesObject & { status?: { conditions?: Array<{ type: string; status: string }> } }
          >(host, 'core.kubefed.io/v1beta1', 'KubeFedCluster', c, NS);
          return k?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
        },
        { timeoutMs: 60_000 },
      );
    expect(await read(member1, 'v1', 'Namespace', 'dry-run-ns')).toBeUndefined();
    expect(await read(host, 'v1', 'Namespace', 'dry-run-ns')).toBeUndefined();
    const printed = readFileSync(join(work, 'enable.yaml'), 'utf8');
    expect(printed).toContain('kind: FederatedTypeConfig');
    expect(printed).toContain('name: federatedcronjobs.types.kubefed.io');
    expect(
      await read(
        host,
        'apiextensions.k8s.io/v1',
        'CustomResourceDefinition',
        'federatedcronjobs.types.kubefed.io',
      ),
    ).toBeUndefined();
    expect(
      await read(host, 'core.kubefed.io/v1beta1', 'FederatedTypeConfig', 'cronjobs.batch', NS),
    ).toBeUndefined();
  });

  it('refuses a second join the way kubefedctl did (error-on-existing defaults to true)', async () => {
    const r = await kubefedctlScript([
      'kubefedctl join cluster1 --cluster-context cluster1 --host-cluster-context cluster0',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('already exist');
    expect(r.stderr).toContain('--error-on-existing=false');
  });

  it('enables, federates a namespace with its contents, and disables with kubefedctl flags', async () => {
    await apply(host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'compat' } });
    await apply(host, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'compat', annotations: { note: 'host only' } },
      data: { mode: 'compat' },
    } as KubernetesObject);
    await apply(host, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'skipped', namespace: 'compat' },
      stringData: { a: 'b' },
    } as KubernetesObject);
    const r = await kubefedctlScript([
      'kubefedctl enable roles.rbac.authorization.k8s.io --host-cluster-context cluster0 --federated-group types.kubefed.io --federated-version v1beta1 --kubefed-namespace kube-federation-system',
      'kubefedctl federate namespaces compat --contents --skip-api-resources secrets --host-cluster-context cluster0',
      'kubefedctl federate configmaps settings -n compat -o yaml --host-cluster-context cluster0 > federated-settings.yaml',
      'kubefedctl disable roles.rbac.authorization.k8s.io --delete-crd --host-cluster-context cluster0',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('customresourcedefinition/federatedroles.types.kubefed.io deleted');
    const cm = await waitFor(
      'ConfigMap compat/settings in cluster1',
      async () => {
        const o = await read<KubernetesObject & { data?: Record<string, string> }>(
          member1,
          'v1',
          'ConfigMap',
          'settings',
          'compat',
        );
        return managed(o) === 'true' ? o : undefined;
      },
      { timeoutMs: 90_000 },
    );
    expect(cm.data?.mode).toBe('compat');
    // -s secrets: the Secret was not federated.
    expect(
      await read(host, 'types.kubefed.io/v1beta1', 'FederatedSecret', 'skipped', 'compat'),
    ).toBeUndefined();
    // kubefedctl's template keeps labels only.
    expect(readFileSync(join(work, 'federated-settings.yaml'), 'utf8')).not.toContain('host only');
    // The API server removes a deleted CRD after its finalizer has cleared the instances: wait.
    await waitFor('CRD federatedroles.types.kubefed.io gone', async () =>
      (await read(
        host,
        'apiextensions.k8s.io/v1',
        'CustomResourceDefinition',
        'federatedroles.types.kubefed.io',
      )) === undefined
        ? true
        : undefined,
    );
  });

  it('refuses disable --delete-crd while federated objects exist, saying how many and where, changing nothing', async () => {
    const r = await kubefedctlScript([
      'kubefedctl disable configmaps --delete-crd --host-cluster-context cluster0',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'cannot delete CRD federatedconfigmaps.types.kubefed.io while 1 FederatedConfigMap object(s) exist (1 in namespace compat)',
    );
    // Nothing was touched: the type config, the federated object and the member copy are all there.
    expect(
      await read(host, 'core.kubefed.io/v1beta1', 'FederatedTypeConfig', 'configmaps', NS),
    ).toBeDefined();
    expect(
      await read(host, 'types.kubefed.io/v1beta1', 'FederatedConfigMap', 'settings', 'compat'),
    ).toBeDefined();
    const cm = await read(member1, 'v1', 'ConfigMap', 'settings', 'compat');
    expect(managed(cm)).toBe('true');
  });
});
