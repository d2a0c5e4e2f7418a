// `make demo`: three local clusters, the controller running, every cluster joined, the KubeFed
// walkthrough propagated, and what each cluster got printed. `make down` (this file's `down`) stops
// the controller by its recorded pid and then the testbed.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import { fedctlOk } from './harness/fedctl.ts';
import { apply, clusterApi, read, readManifests } from './harness/kube.ts';
import { waitFor } from './harness/wait.ts';
import * as testbed from './index.ts';
import { type ProcessRecord, startProcess, stopProcess } from './processes.ts';
import { defaultStateDir } from './state.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const stateDir = defaultStateDir();
const pidFile = join(stateDir, 'controller.pid');
const logFile = join(stateDir, 'controller.log');
const say = (line: string) => process.stderr.write(`[demo] ${line}\n`);

type Deployment = KubernetesObject & {
  spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } };
  status?: { readyReplicas?: number };
};

async function stopController(): Promise<void> {
  if (!existsSync(pidFile)) return;
  const rec = JSON.parse(readFileSync(pidFile, 'utf8')) as ProcessRecord;
  if (await stopProcess(rec, 15_000)) say(`stopped controller (pid ${rec.pid})`);
  rmSync(pidFile, { force: true });
}

async function up(): Promise<void> {
  const status = await testbed.up({ clusters: 3 });
  const kubeconfig = status.kubeconfig;
  await stopController();
  const rec = startProcess({
    name: 'controller',
    cmd: process.execPath,
    args: [
      join(repo, 'src/cli/index.ts'),
      '--kubeconfig',
      kubeconfig,
      'controller',
      '--host-cluster-context',
      'cluster0',
      '--metrics-port',
      '0',
    ],
    log: logFile,
    cwd: repo,
  });
  writeFileSync(pidFile, JSON.stringify(rec));
  say(`controller running (pid ${rec.pid}, log ${logFile})`);

  const host = clusterApi(kubeconfig, 'cluster0').api;
  await waitFor(
    'the controller to install the CRDs',
    () =>
      read(
        host,
        'apiextensions.k8s.io/v1',
        'CustomResourceDefinition',
        'federateddeployments.types.kubefed.io',
      ),
    { timeoutMs: 60_000 },
  );
  for (const c of status.clusters) {
    // `make demo` may run again on the same clusters: re-joining is then an update, not an error.
    await fedctlOk(
      [
        'join',
        c.name,
        '--cluster-context',
        c.name,
        '--host-cluster-context',
        'cluster0',
        '--error-on-existing=false',
      ],
      { kubeconfig },
    );
    say(`joined ${c.name}`);
  }
  const dir = join(repo, 'examples', 'walkthrough');
  for (const f of ['namespace.yaml', 'federatednamespace.yaml', 'federateddeployment.yaml']) {
    for (const o of readManifests(join(dir, f))) await apply(host, o);
    say(`applied examples/walkthrough/${f}`);
  }
  const clusters = status.clusters.map((c) => c.name);
  await waitFor(
    'the walkthrough to propagate',
    async () => {
      for (const c of ['cluster0', 'cluster1']) {
        const d = await read<Deployment>(
          clusterApi(kubeconfig, c).api,
          'apps/v1',
          'Deployment',
          'test',
          'test',
        );
        if (!d || (d.status?.readyReplicas ?? 0) !== d.spec.replicas) return false;
      }
      return true;
    },
    { timeoutMs: 120_000 },
  );

  const rows = [
    ['CLUSTER', 'NAMESPACE test', 'DEPLOYMENT test', 'REPLICAS (READY)', 'IMAGE', 'ANNOTATION foo'],
  ];
  for (const c of clusters) {
    const api = clusterApi(kubeconfig, c).api;
    const ns = await read(api, 'v1', 'Namespace', 'test');
    const d = await read<Deployment>(api, 'apps/v1', 'Deployment', 'test', 'test');
    rows.push([
      c,
      ns ? 'yes' : '-',
      d ? 'yes' : '-',
      d ? `${d.spec.replicas} (${d.status?.readyReplicas ?? 0})` : '-',
      d?.spec.template.spec.containers[0]?.image ?? '-',
      d?.metadata?.annotations?.foo ?? '-',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stdout.write(
    `${rows
      .map((r) =>
        r
          .map((v, i) => v.padEnd(widths[i]!))
          .join('   ')
          .trimEnd(),
      )
      .join('\n')}\n\n`,
  );
  const st = await fedctlOk(
    ['status', 'FederatedDeployment', 'test', '-n', 'test', '--host-cluster-context', 'cluster0'],
    { kubeconfig },
  );
  process.stdout.write(`${st.stderr}\n${st.stdout}\n\n`);
  process.stdout.write(
    [
      `kubeconfig: ${kubeconfig} (contexts cluster0, cluster1, cluster2; cluster0 is the host)`,
      `try:  npx fedctl --kubeconfig ${kubeconfig} --host-cluster-context cluster0 get clusters`,
      `      npx fedctl --kubeconfig ${kubeconfig} --host-cluster-context cluster0 status FederatedDeployment test -n test`,
      'stop: make down',
      '',
    ].join('\n'),
  );
}

const command = process.argv[2] ?? 'up';
if (command === 'down') {
  await stopController();
  await testbed.down({});
} else if (command === 'up') {
  await up();
} else {
  process.stderr.write(`usage: node testbed/demo.ts [up|down]\n`);
  process.exitCode = 2;
}
