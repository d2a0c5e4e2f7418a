import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Profile } from './plan.ts';

// The testbed's state file (<state dir>/state.json) and the public status shape derived from it.

export type Provider = 'local' | 'kind';
export type DomainMode = 'shared' | 'distinct';

/** One process the testbed started, with everything needed to stop it or start it again. */
export interface ProcessRecord {
  /** e.g. cluster0/kube-apiserver, corefile-sync. */
  name: string;
  /** Process id, also its process group id (started detached). Null while deliberately stopped. */
  pid: number | null;
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22): guards against pid reuse. */
  startTicks: number | null;
  cmd: string;
  args: string[];
  log: string;
}

export interface NodeRecord {
  name: string;
  ip: string;
  podCIDR: string;
  /** Network namespace holding the node's address and pod range; null for kind (a container). */
  netns: string | null;
}

export interface ClusterPorts {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  dns: number;
}

export interface ClusterRecord {
  name: string;
  index: number;
  context: string;
  server: string;
  podCIDR: string;
  serviceCIDR: string;
  domain: string;
  /** host:port other clusters' DNS forwards to. */
  dns: string;
  /** Working directory of this cluster (etcd data, certs, logs, Corefile). */
  dir: string;
  /** Single-context kubeconfig the cluster's own components use. */
  kubeconfig: string;
  ports: ClusterPorts | null;
  nodes: NodeRecord[];
  processes: ProcessRecord[];
}

export interface TestbedOptions {
  clusters: number;
  nodes: number;
  clusterDomain: DomainMode;
  provider: Provider;
  netns: boolean;
  /** What each cluster runs (plan.ts). Absent in state files written before profiles: full. */
  profile?: Profile;
}

export interface TestbedState {
  version: 1;
  /** Short id (4 hex digits); its first byte picks the node subnet, it prefixes netns names. */
  id: string;
  idByte: number;
  provider: Provider;
  phase: 'starting' | 'ready';
  createdAt: string;
  options: TestbedOptions;
  stateDir: string;
  kubeconfig: string;
  binDir: string | null;
  /** Network namespaces this testbed created (deleted by down). */
  netns: string[];
  fabricNetns: string | null;
  /** Processes not tied to one cluster (the Corefile sync). */
  processes: ProcessRecord[];
  clusters: ClusterRecord[];
}

export interface NodeStatus {
  name: string;
  ip: string;
  podCIDR: string;
  netns: string | null;
}

export interface ClusterStatus {
  name: string;
  context: string;
  server: string;
  podCIDR: string;
  serviceCIDR: string;
  domain: string;
  dns: string;
  nodes: NodeStatus[];
}

/** What `status -o json` prints and `up()` returns. */
export interface TestbedStatus {
  clusters: ClusterStatus[];
  kubeconfig: string;
}

/** Shapes the state into the public status, with exactly the documented keys in a fixed order. */
export function toStatus(state: Pick<TestbedState, 'clusters' | 'kubeconfig'>): TestbedStatus {
  return {
    clusters: state.clusters.map((c) => ({
      name: c.name,
      context: c.context,
      server: c.server,
      podCIDR: c.podCIDR,
      serviceCIDR: c.serviceCIDR,
      domain: c.domain,
      dns: c.dns,
      nodes: c.nodes.map((n) => ({ name: n.name, ip: n.ip, podCIDR: n.podCIDR, netns: n.netns })),
    })),
    kubeconfig: state.kubeconfig,
  };
}

/** Fixed-width table for `status -o table`. `alive` maps process names to liveness. */
export function statusTable(status: TestbedStatus, alive?: (cluster: string) => string): string {
  const rows: string[][] = [['CLUSTER', 'SERVER', 'DOMAIN', 'DNS', 'PODS', 'SERVICES', 'NODES', 'PROCESSES']];
  for (const c of status.clusters) {
    rows.push([
      c.name,
      c.server,
      c.domain,
      c.dns,
      c.podCIDR,
      c.serviceCIDR,
      c.nodes.map((n) => `${n.name}=${n.ip}(${n.podCIDR || '-'})`).join(' '),
      alive ? alive(c.name) : '',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\nkubeconfig: ${status.kubeconfig}\n`;
}

/** Every process record in the state, cluster processes first. */
export function allProcesses(state: Pick<TestbedState, 'clusters' | 'processes'>): ProcessRecord[] {
  return [...state.clusters.flatMap((c) => c.processes), ...state.processes];
}

export const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** <repo>/.testbed, or $FEDCTL_TESTBED_DIR. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.FEDCTL_TESTBED_DIR;
  return fromEnv && fromEnv !== '' ? resolve(fromEnv) : join(REPO_DIR, '.testbed');
}

export const stateFile = (dir: string): string => join(dir, 'state.json');

export async function readState(dir: string): Promise<TestbedState | undefined> {
  const f = stateFile(dir);
  if (!existsSync(f)) return undefined;
  const text = await readFile(f, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `testbed state file ${f} is not valid JSON (${(e as Error).message}); remove ${dir} by hand`,
    );
  }
  const s = parsed as Partial<TestbedState>;
  if (s.version !== 1 || !Array.isArray(s.clusters)) {
    throw new Error(`testbed state file ${f} has an unknown format; remove ${dir} by hand`);
  }
  return s as TestbedState;
}

/** Writes atomically (temp file + rename) so a reader never sees half a file. */
export async function writeState(state: TestbedState): Promise<void> {
  const f = stateFile(state.stateDir);
  const tmp = `${f}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, f);
}
