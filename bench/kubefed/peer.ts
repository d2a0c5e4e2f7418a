// KubeFed v0.10.0 as a benchmark peer: installed on a testbed host the way its Helm chart would
// (CRDs, namespace, KubeFedConfig, FederatedTypeConfigs), its controller-manager run out of cluster
// as a detached process, every cluster joined with its own kubefedctl. The chart's admission webhooks
// are not installed (see README.md). fedctl and KubeFed share CRD names: never both on one host.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { ensureObject, waitEstablished } from '../../src/kube/apply.ts';
import { loadKubeConfig } from '../../src/kube/clients.ts';
import { stdoutOf } from '../../src/kube/exec.ts';
import { CRD_REF, FTC_REF, NAMESPACE_REF } from '../../src/kube/refs.ts';
import { clusterApi, read, readManifests } from '../../testbed/harness/kube.ts';
import { waitFor } from '../../testbed/harness/wait.ts';
import { type Kubeconfig, renderKubeconfig, singleContext } from '../../testbed/kubeconfig.ts';
import { pickPorts, probeFreePort } from '../../testbed/ports.ts';
import { isRunning, startProcess, stopProcess, tail } from '../../testbed/processes.ts';
import type { ProcessRecord } from '../../testbed/state.ts';
import { ENABLED_TYPES, KUBEFED_CONFIG_REF, KUBEFED_NAMESPACE, kubeFedConfig } from './chart.ts';

const BUILD_SCRIPT = fileURLToPath(new URL('./build.sh', import.meta.url));

export interface KubeFedOptions {
  /** Kubeconfig with a context per cluster (the testbed's). */
  kubeconfig: string;
  hostContext: string;
  /** Contexts to join (cluster name = context name), the host included if it is a member. */
  clusters: string[];
  /** Logs and the host kubeconfig the controller-manager reads go here. */
  workDir: string;
  log?: (m: string) => void;
  /** Sync controller workers (KubeFedConfig syncController.maxConcurrentReconciles); chart default 1. */
  workers?: number;
}

export interface KubeFedPeer {
  pid: number;
  /** Folder of the KubeFed binaries and the chart files (bench/kubefed/build.sh --print-dir). */
  dir: string;
  /** Its own prometheus endpoint (controller-runtime and kubefed metrics). */
  metricsUrl: string;
  logFile: string;
  stop(): Promise<void>;
  /** Stops and starts it again; resolves once the new process leads (after the old lease expires). */
  restart(): Promise<void>;
  logTail(n?: number): string;
}

/** Builds KubeFed if needed (minutes when cold) and returns the folder with its binaries and chart files. */
export async function kubeFedDir(log: (m: string) => void = () => {}): Promise<string> {
  log('building or reusing KubeFed v0.10.0 (bench/kubefed/build.sh)');
  const out = await stdoutOf('bash', [BUILD_SCRIPT], { streamStderr: true, timeoutMs: 60 * 60_000 });
  const dir = out.trim().split('\n').pop() ?? '';
  if (!dir.startsWith('/')) throw new Error(`${BUILD_SCRIPT} printed "${out.trim()}", not a directory`);
  return dir;
}

/** The chart's CRDs (core.kubefed.io etc., then the federated types), as build.sh copied them. */
export const chartCrds = (dir: string): KubernetesObject[] => [
  ...readManifests(join(dir, 'chart/core-crds.yaml')),
  ...readManifests(join(dir, 'chart/federated-crds.yaml')),
];

const LEADING = 'promoted as leader';
const countLeading = (file: string) => tail(file, 1_000_000).split(LEADING).length - 1;

export async function startKubeFed(o: KubeFedOptions): Promise<KubeFedPeer> {
  const log = o.log ?? (() => {});
  const dir = await kubeFedDir(log);
  const { api: host } = clusterApi(o.kubeconfig, o.hostContext);

  const kc = loadKubeConfig({ kubeconfig: o.kubeconfig, context: o.hostContext });

  log('installing the chart’s CRDs, namespace and KubeFedConfig');
  // Written as raw JSON (ensureObject): client-node's typed CRD model would drop the schemas'
  // x-kubernetes-preserve-unknown-fields, and the API server would then prune every template.
  const crds = chartCrds(dir);
  for (const crd of crds) await ensureObject(kc, CRD_REF, crd);
  for (const crd of crds) await waitEstablished(kc, crd.metadata!.name!, 60_000);
  await ensureObject(kc, NAMESPACE_REF, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: KUBEFED_NAMESPACE },
  });
  await ensureObject(kc, KUBEFED_CONFIG_REF, kubeFedConfig(o.workers ?? 1));

  // The controller-manager uses its kubeconfig's current context: give it one holding only the host.
  const full = parse(readFileSync(o.kubeconfig, 'utf8')) as Kubeconfig;
  const hostKubeconfig = join(o.workDir, 'kubefed-host.kubeconfig');
  writeFileSync(hostKubeconfig, renderKubeconfig(singleContext(full, o.hostContext)), { mode: 0o600 });
  const logFile = join(o.workDir, 'kubefed-controller-manager.log');
  // Its defaults bind healthz and metrics on every interface (:8080, :9090); keep them on loopback.
  const [healthz, metrics] = await pickPorts(2, () => probeFreePort());
  const spec = {
    name: 'kubefed-controller-manager',
    cmd: join(dir, 'controller-manager'),
    args: [
      `--kubeconfig=${hostKubeconfig}`,
      `--kubefed-namespace=${KUBEFED_NAMESPACE}`,
      `--healthz-addr=127.0.0.1:${healthz}`,
      `--metrics-addr=127.0.0.1:${metrics}`,
      '--v=2', // the chart's controller.logLevel
    ],
    log: logFile,
  };
  let rec: ProcessRecord = startProcess(spec);
  log(`controller-manager started (pid ${rec.pid}, log ${logFile})`);
  const waitLeading = async (before: number) => {
    await waitFor(
      `the KubeFed controller-manager to lead (log ${logFile})`,
      () => {
        if (!isRunning(rec)) throw new Error(`controller-manager exited:\n${tail(logFile, 30)}`);
        return countLeading(logFile) > before;
      },
      // A restarted process waits for the old configmap lease (15 s) to expire.
      { timeoutMs: 90_000, intervalMs: 250 },
    );
  };
  try {
    await waitLeading(0);

    // The chart's FederatedTypeConfigs for the types the bench uses (Helm installs them into the
    // release namespace).
    const ftcs = readManifests(join(dir, 'chart/federatedtypeconfig.yaml')).filter((f) =>
      ENABLED_TYPES.includes(f.metadata?.name ?? ''),
    );
    if (ftcs.length !== ENABLED_TYPES.length)
      throw new Error(`${dir}/chart/federatedtypeconfig.yaml lacks some of ${ENABLED_TYPES.join(', ')}`);
    for (const f of ftcs)
      await ensureObject(kc, FTC_REF, { ...f, metadata: { ...f.metadata, namespace: KUBEFED_NAMESPACE } });
    await Promise.all(ENABLED_TYPES.map((name) => waitFtcRunning(host, name)));

    for (const c of o.clusters) {
      log(`kubefedctl join ${c}`);
      await stdoutOf(
        join(dir, 'kubefedctl'),
        [
          'join',
          c,
          `--cluster-context=${c}`,
          `--host-cluster-context=${o.hostContext}`,
          `--kubefed-namespace=${KUBEFED_NAMESPACE}`,
          `--kubeconfig=${o.kubeconfig}`,
        ],
        { timeoutMs: 120_000 },
      );
    }
    await Promise.all(o.clusters.map((c) => waitClusterReady(host, c)));
    log(`KubeFed ready: ${o.clusters.length} clusters joined`);
  } catch (e) {
    await stopProcess(rec);
    throw new Error(`${(e as Error).message}\n--- controller-manager log tail ---\n${tail(logFile, 40)}`);
  }

  const peer: KubeFedPeer = {
    get pid() {
      return rec.pid ?? -1;
    },
    dir,
    metricsUrl: `http://127.0.0.1:${metrics}/metrics`,
    logFile,
    stop: async () => {
      await stopProcess(rec);
    },
    restart: async () => {
      await stopProcess(rec);
      const before = countLeading(logFile);
      rec = startProcess(spec);
      log(`controller-manager restarted (pid ${rec.pid})`);
      await waitLeading(before);
    },
    logTail: (n = 60) => tail(logFile, n),
  };
  return peer;
}

type Conditioned = KubernetesObject & {
  status?: { conditions?: Array<{ type: string; status: string }> } & Record<string, unknown>;
};
const conditionTrue = (o: Conditioned | undefined, type: string) =>
  o?.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;

/** The FTC controller reports its sync controller running in the FTC's status. */
const waitFtcRunning = (host: KubernetesObjectApi, name: string) =>
  waitFor(`FederatedTypeConfig ${name} to have a running sync controller`, async () => {
    const f = await read<Conditioned>(
      host,
      'core.kubefed.io/v1beta1',
      'FederatedTypeConfig',
      name,
      KUBEFED_NAMESPACE,
    );
    return f?.status?.propagationController === 'Running';
  });

const waitClusterReady = (host: KubernetesObjectApi, name: string) =>
  waitFor(
    `KubeFedCluster ${name} to be Ready`,
    async () => {
      const c = await read<Conditioned>(
        host,
        'core.kubefed.io/v1beta1',
        'KubeFedCluster',
        name,
        KUBEFED_NAMESPACE,
      );
      return conditionTrue(c, 'Ready');
    },
    // Health is probed every 10 s (KubeFedConfig clusterHealthCheck.period).
    { timeoutMs: 90_000, intervalMs: 500 },
  );
