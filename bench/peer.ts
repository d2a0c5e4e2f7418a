// The federation under test. run.ts drives every workload through this interface, so another
// implementation (KubeFed's controller-manager) is an adapter of a few lines around its launcher.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureObject, waitEstablished } from '../src/kube/apply.ts';
import { loadKubeConfig } from '../src/kube/clients.ts';
import { CRD_REF, FEDERATED_CONFIGMAP_REF } from '../src/kube/refs.ts';
import { listResource } from '../src/kube/resources.ts';
import { waitControllerReady } from '../testbed/harness/controllers.ts';
import { BUNDLE_ENTRY, buildBundle, ControllerProcess, fedctlOk } from '../testbed/harness/fedctl.ts';
import { apply, clusterApi, readManifests } from '../testbed/harness/kube.ts';
import { waitFor } from '../testbed/harness/wait.ts';
import { chartCrds, type KubeFedPeer, kubeFedDir, startKubeFed } from './kubefed/peer.ts';
import { sampleValue } from './workloads.ts';

/** What a peer gets from the fresh testbed it runs on. */
export interface BenchTestbed {
  kubeconfig: string;
  /** Context of the host cluster (also a member). */
  hostContext: string;
  /** Contexts of every member cluster, host included. */
  clusters: string[];
  /** A folder of the peer's own (logs, builds). */
  workDir: string;
  /** The testbed's binaries (coredns among them). */
  binDir: string;
}

export interface Peer {
  name: string;
  /**
   * Serves the federated CRDs on the host without running a controller: the limit baseline writes
   * FederatedConfigMaps before the peer starts. Default: fedctl's crds/ (KubeFed-wire-compatible).
   */
  installCrds?(tb: BenchTestbed): Promise<void>;
  /** Starts the controller and joins every cluster; resolves once it is ready to propagate. */
  start(tb: BenchTestbed): Promise<void>;
  /** Stops the controller (the clusters stay joined). No-op when stopped. */
  stop(): Promise<void>;
  /** Stops the controller if it runs and starts it again as start() did, without joining again; resolves when ready. */
  restart(): Promise<void>;
  /** The controller's pid (for RSS), undefined while stopped. */
  pid(): number | undefined;
  /** Live V8 heap (or the runtime's equivalent) after a full collection, when the peer exposes it. */
  heapBytes?(): Promise<number | undefined>;
  /** Keys waiting in the controller's work queues, when the peer exposes them (steady-state detection). */
  queueDepth?(): Promise<number | undefined>;
  /** Whether the peer runs fedctl's DNS controller (the DNS figure needs it). */
  dns?: boolean;
  /** The last lines of the controller's log, for a failure report. */
  logTail?(lines: number): string;
}

const CRDS = join(import.meta.dirname, '..', 'crds');

/**
 * Applies all of fedctl's CRDs (as its controller would at start) and waits until FederatedConfigMap
 * is served. All of them: the API server's OpenAPI rebuild after each new CRD would otherwise land in
 * the middle of the peer's first workload instead of before the baseline.
 */
export async function installFedctlCrds(tb: BenchTestbed): Promise<void> {
  const { api, kc } = clusterApi(tb.kubeconfig, tb.hostContext);
  for (const file of readdirSync(CRDS).filter((f) => f.endsWith('.yaml')))
    for (const crd of readManifests(join(CRDS, file))) await apply(api, crd);
  await waitFor(
    'FederatedConfigMap served on the host',
    async () => {
      await listResource(kc, FEDERATED_CONFIGMAP_REF, { namespace: 'default' });
      return true;
    },
    { timeoutMs: 60_000 },
  );
}

/**
 * fedctl's controller as a child process (`fedctl controller`), as a user runs it out of cluster:
 * the installed package's bundle (what the image runs; built from this checkout at start), or with
 * `sources` the checkout's TypeScript (which also pays for Node's type stripping, ~15 MiB).
 */
export function fedctlPeer(opts: { args?: string[]; sources?: boolean; nodeArgs?: string[] } = {}): Peer {
  const sources = opts.sources ?? false;
  let tb: BenchTestbed | undefined;
  let controller: ControllerProcess | undefined;
  let port: number | undefined;
  let launches = 0;
  const launch = async () => {
    if (!tb) throw new Error('fedctl peer: start() first');
    launches += 1;
    controller = new ControllerProcess(join(tb.workDir, `controller-${launches}.log`));
    controller.start(
      [
        '--host-cluster-context',
        tb.hostContext,
        '--metrics-port',
        '0',
        '--coredns-binary',
        tb.binDir,
        ...(opts.args ?? []),
      ],
      tb.kubeconfig,
      // The inspector, on loopback: heapBytes() forces a full collection first (live objects only).
      {
        nodeArgs: ['--inspect=127.0.0.1:0', ...(opts.nodeArgs ?? [])],
        entry: sources ? undefined : BUNDLE_ENTRY,
      },
    );
    port = await waitControllerReady(controller);
  };
  const metrics = async () => {
    if (port === undefined || !controller?.running()) return undefined;
    return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  };
  return {
    name: 'fedctl',
    dns: true,
    installCrds: installFedctlCrds,
    async start(testbed) {
      tb = testbed;
      if (!sources) await buildBundle();
      await launch();
      for (const c of testbed.clusters)
        await fedctlOk(['join', c, '--cluster-context', c, '--host-cluster-context', testbed.hostContext], {
          kubeconfig: testbed.kubeconfig,
        });
    },
    async stop() {
      await controller?.stop();
      port = undefined;
    },
    async restart() {
      await controller?.stop();
      await launch();
    },
    pid: () => (controller?.running() ? controller.pid : undefined),
    heapBytes: async () => {
      await controller?.collectGarbage();
      const text = await metrics();
      return text === undefined ? undefined : sampleValue(text, 'nodejs_heap_used_bytes');
    },
    // Both queue gauges: the work queues' own (fedctl_queue_depth{queue}) and the type controllers'
    // (fedctl_workqueue_depth{type}); steady means every one is 0.
    queueDepth: async () => {
      const text = await metrics();
      if (text === undefined) return undefined;
      return text
        .split('\n')
        .filter((l) => /^fedctl_(work)?queue_depth[{ ]/.test(l))
        .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
    },
    logTail: (lines) => controller?.tail(lines) ?? '(no controller started)',
  };
}

/**
 * KubeFed v0.10's controller-manager (built from its Go module by bench/kubefed/build.sh), run out of
 * cluster on the same kind of fresh testbed. Its CRDs are the chart's, written as raw JSON.
 */
export function kubefedPeer(): Peer {
  let handle: KubeFedPeer | undefined;
  let running = false;
  return {
    name: 'kubefed',
    async installCrds(tb) {
      const kc = loadKubeConfig({ kubeconfig: tb.kubeconfig, context: tb.hostContext });
      const crds = chartCrds(await kubeFedDir());
      for (const crd of crds) await ensureObject(kc, CRD_REF, crd);
      for (const crd of crds) await waitEstablished(kc, crd.metadata!.name!, 60_000);
    },
    async start(tb) {
      handle = await startKubeFed({
        kubeconfig: tb.kubeconfig,
        hostContext: tb.hostContext,
        clusters: tb.clusters,
        workDir: tb.workDir,
      });
      running = true;
    },
    async stop() {
      if (running) await handle?.stop();
      running = false;
    },
    async restart() {
      if (!handle) throw new Error('kubefed peer: start() first');
      await handle.restart();
      running = true;
    },
    pid: () => (running ? handle?.pid : undefined),
    logTail: (lines) => handle?.logTail(lines) ?? '',
  };
}

/** A space-separated list of flags from the environment (unset → none). */
const flagsFromEnv = (value: string | undefined): string[] => (value ?? '').split(' ').filter(Boolean);

/**
 * The peers `BENCH_PEERS` names (default fedctl), in that order. fedctl runs `fedctlArgs` then
 * BENCH_FEDCTL_ARGS, with BENCH_FEDCTL_NODE_ARGS for Node and BENCH_FEDCTL_ENTRY=sources for the
 * checkout's TypeScript.
 */
export function peersFromEnv(env = process.env.BENCH_PEERS ?? 'fedctl', fedctlArgs: string[] = []): Peer[] {
  return env
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean)
    .map((name) => {
      if (name === 'fedctl')
        return fedctlPeer({
          args: [...fedctlArgs, ...flagsFromEnv(process.env.BENCH_FEDCTL_ARGS)],
          sources: process.env.BENCH_FEDCTL_ENTRY === 'sources',
          nodeArgs: flagsFromEnv(process.env.BENCH_FEDCTL_NODE_ARGS),
        });
      if (name === 'kubefed') return kubefedPeer();
      throw new Error(`BENCH_PEERS: unknown peer "${name}" (fedctl, kubefed)`);
    });
}
