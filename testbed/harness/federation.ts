import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import type { Profile } from '../plan.ts';
import { ControllerProcess, fedctlOk } from './fedctl.ts';
import { apply, clusterApi, read, readManifests } from './kube.ts';
import { type E2ETestbed, startTestbed } from './testbed.ts';
import { waitFor } from './wait.ts';

const NS = 'kube-federation-system';

/** A running federation for one e2e file: testbed, `fedctl controller` on cluster0, every cluster joined. */
export interface Federation {
  tb: E2ETestbed;
  kubeconfig: string;
  /** Generic clients per cluster; cluster0 is the host. */
  api: Record<string, KubernetesObjectApi>;
  host: KubernetesObjectApi;
  controller: ControllerProcess;
  /** Starts one more controller with the same flags (a restart, or a second replica behind the lease). */
  startController(logName: string): ControllerProcess;
  /** Stops the controller and the testbed; after a failure, prints the controller log and testbed logs first. */
  stop(failed: boolean): Promise<void>;
}

export async function startFederation(opts: {
  name: string;
  clusters?: number;
  clusterDomain?: 'shared' | 'distinct';
  controllerArgs?: string[];
  /** Node's own flags for the controller process (e.g. `--inspect=127.0.0.1:0`). */
  controllerNodeArgs?: string[];
  /** The CLI the controller runs (default the sources; BUNDLE_ENTRY for the built package). */
  controllerEntry?: string;
  /**
   * KubeFedConfig's clusterHealthCheck; default 1 s period and timeout, failure threshold 2, so
   * outage tests see a cluster go NotReady in seconds. Scale runs on a loaded machine need slack.
   */
  clusterHealthCheck?: {
    period: string;
    timeout: string;
    failureThreshold: number;
    successThreshold: number;
  };
  /** Testbed profile (plan.ts); default full. */
  profile?: Profile;
}): Promise<Federation> {
  const work = mkdtempSync(join(tmpdir(), `fedctl-e2e-${opts.name}-`));
  const tb = await startTestbed({
    clusters: opts.clusters ?? 3,
    clusterDomain: opts.clusterDomain,
    profile: opts.profile,
    stateDir: join(work, 'testbed'),
  });
  const kubeconfig = tb.status.kubeconfig;
  const api = Object.fromEntries(tb.status.clusters.map((c) => [c.name, clusterApi(kubeconfig, c.name).api]));
  const host = api.cluster0!;
  // The GitOps path: the shipped crds/ apply as they are. A fast health check lets outage tests see a
  // cluster go NotReady in seconds instead of the default 30.
  for (const crd of readManifests(
    join(import.meta.dirname, '..', '..', 'crds', 'kubefedconfigs.core.kubefed.io.yaml'),
  ))
    await apply(host, crd);
  await apply(host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await waitFor('KubeFedConfig CRD to be served', async () => {
    await apply(host, {
      apiVersion: 'core.kubefed.io/v1beta1',
      kind: 'KubeFedConfig',
      metadata: { name: 'kubefed', namespace: NS },
      spec: {
        scope: 'Cluster',
        clusterHealthCheck: opts.clusterHealthCheck ?? {
          period: '1s',
          timeout: '1s',
          failureThreshold: 2,
          successThreshold: 1,
        },
      },
    } as KubernetesObject);
    return true;
  });
  const controllers: ControllerProcess[] = [];
  const startController = (logName: string) => {
    const c = new ControllerProcess(join(work, logName));
    c.start(
      [
        '--host-cluster-context',
        'cluster0',
        '--metrics-port',
        '0',
        '--coredns-binary',
        tb.binDir,
        ...(opts.controllerArgs ?? []),
      ],
      kubeconfig,
      { nodeArgs: opts.controllerNodeArgs, entry: opts.controllerEntry },
    );
    controllers.push(c);
    return c;
  };
  const controller = startController('controller.log');
  const stop = async (failed: boolean) => {
    if (failed)
      for (const c of controllers) process.stderr.write(`\n--- ${c.logFile} (tail) ---\n${c.tail(150)}\n`);
    if (failed) process.stderr.write(`\n--- testbed ---\n${await tb.diagnostics()}\n`);
    for (const c of controllers) await c.stop();
    await tb.down();
  };
  try {
    await waitFor(
      'the controller to install its CRDs',
      () =>
        read(
          host,
          'apiextensions.k8s.io/v1',
          'CustomResourceDefinition',
          'replicaschedulingpreferences.scheduling.kubefed.io',
        ),
      { timeoutMs: 60_000 },
    );
    for (const c of tb.status.clusters)
      await fedctlOk(['join', c.name, '--cluster-context', c.name, '--host-cluster-context', 'cluster0'], {
        kubeconfig,
      });
    await waitFor(
      'every cluster Ready',
      async () => {
        const r = await fedctlOk(['get', 'clusters', '--host-cluster-context', 'cluster0', '-o', 'json'], {
          kubeconfig,
        });
        const items = (JSON.parse(r.stdout).items ?? []) as Array<{
          status?: { conditions?: Array<{ type: string; status: string }> };
        }>;
        return (
          items.length === tb.status.clusters.length &&
          items.every((c) => c.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'))
        );
      },
      { timeoutMs: 60_000 },
    );
  } catch (e) {
    await stop(true);
    throw e;
  }
  return { tb, kubeconfig, api, host, controller, startController, stop };
}
