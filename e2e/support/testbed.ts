import type { TestbedStatus } from '../testbed/index.ts';
import * as testbed from '../testbed/index.ts';

/** A testbed owned by one e2e file: its own state dir, torn down by the file's afterAll. */
export interface E2ETestbed {
  status: TestbedStatus;
  stateDir: string;
  /** Folder of the testbed's binaries (coredns among them). */
  binDir: string;
  down(): Promise<void>;
  stopApiServer(cluster: string): Promise<void>;
  startApiServer(cluster: string): Promise<void>;
  /** Log tails of every testbed process, for failure reports. */
  diagnostics(): Promise<string>;
}

export async function startTestbed(opts: {
  clusters: number;
  stateDir: string;
  clusterDomain?: 'shared' | 'distinct';
  nodes?: number;
}): Promise<E2ETestbed> {
  const common = { stateDir: opts.stateDir };
  const status = await testbed.up({
    ...common,
    clusters: opts.clusters,
    clusterDomain: opts.clusterDomain,
    nodes: opts.nodes,
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
