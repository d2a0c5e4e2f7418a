import type { TestbedStatus } from '../index.ts';
import * as testbed from '../index.ts';
import type { Profile } from '../plan.ts';

/** A testbed owned by one e2e file: its own state dir, torn down by the file's afterAll. */
export interface E2ETestbed {
  status: TestbedStatus;
  stateDir: string;
  /** Folder of the testbed's binaries (coredns among them). */
  binDir: string;
  down(): Promise<void>;
  stopApiServer(cluster: string): Promise<void>;
  startApiServer(cluster: string): Promise<void>;
  /**
   * SIGSTOP / SIGCONT a cluster's kube-apiserver by its recorded pid: it keeps accepting connections
   * (the kernel does) but never answers, the way a hung member looks.
   */
  pauseApiServer(cluster: string): Promise<void>;
  resumeApiServer(cluster: string): Promise<void>;
  /** Log tails of every testbed process, for failure reports. */
  diagnostics(): Promise<string>;
}

export async function startTestbed(opts: {
  clusters: number;
  stateDir: string;
  clusterDomain?: 'shared' | 'distinct';
  nodes?: number;
  profile?: Profile;
}): Promise<E2ETestbed> {
  const common = { stateDir: opts.stateDir };
  const status = await testbed.up({
    ...common,
    clusters: opts.clusters,
    clusterDomain: opts.clusterDomain,
    nodes: opts.nodes,
    profile: opts.profile,
  });
  const state = await testbed.readTestbedState(common);
  return {
    status,
    stateDir: opts.stateDir,
    binDir: state.binDir ?? '',
    down: async () => {
      await testbed.down(common);
    },
    stopApiServer: (c) => testbed.stopClusterApiServer(c, common),
    pauseApiServer: (c) => signalApiServer(c, common, 'SIGSTOP'),
    resumeApiServer: (c) => signalApiServer(c, common, 'SIGCONT'),
    startApiServer: (c) => testbed.startClusterApiServer(c, common),
    diagnostics: async () => {
      try {
        return testbed.diagnostics(await testbed.readTestbedState(common));
      } catch (e) {
        return `(no testbed state: ${(e as Error).message})`;
      }
    },
  };
}

async function signalApiServer(
  cluster: string,
  common: { stateDir: string },
  signal: 'SIGSTOP' | 'SIGCONT',
): Promise<void> {
  const state = await testbed.readTestbedState(common);
  const proc = state.clusters
    .find((c) => c.name === cluster)
    ?.processes.find((p) => p.name === `${cluster}/kube-apiserver`);
  if (!proc?.pid) throw new Error(`no running kube-apiserver recorded for ${cluster} in ${common.stateDir}`);
  process.kill(proc.pid, signal);
}
