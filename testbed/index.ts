import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ensureBinaries } from './binaries.ts';
import { downKind, upKind } from './kind-runner.ts';
import { type Log, StateRecorder, withLock } from './launch.ts';
import { startApiServer, stopApiServer, upLocal } from './local.ts';
import { checkNetnsSupport, deleteNetns, idByteOf, listNetns, newTestbedId, usedIdBytes } from './netns.ts';
import { type Profile, planClusters, planProfile } from './plan.ts';
import { isRunning, processStartTicks, stopProcess, tail } from './processes.ts';
import { listRegistered, type RegistryEntry, register, unregister } from './registry.ts';
import {
  allProcesses,
  type DomainMode,
  defaultStateDir,
  type Provider,
  readState,
  stateFile,
  type TestbedState,
  type TestbedStatus,
  toStatus,
  writeState,
} from './state.ts';

// The testbed's TypeScript API (used by the CLI and by e2e suites).

export { dnsQuery, resolveA } from './dns-query.ts';
export type { ClusterStatus, NodeStatus, TestbedState, TestbedStatus } from './state.ts';

export interface CommonOptions {
  /** State directory; default $FEDCTL_TESTBED_DIR or <repo>/.testbed. */
  stateDir?: string;
  /** Progress lines; default: stderr. */
  log?: Log;
}

export interface UpOptions extends CommonOptions {
  clusters?: number;
  nodes?: number;
  clusterDomain?: DomainMode;
  provider?: Provider;
  /** What each cluster runs: `full` (default) or `light` (etcd + kube-apiserver; local provider only). */
  profile?: Profile;
  /** Back nodes with network namespaces (default true; local provider only). */
  netns?: boolean;
  /** Leave a failed testbed in place for inspection instead of tearing it down. */
  keepOnFailure?: boolean;
  /** kind node image (kind provider only). */
  kindImage?: string;
  /**
   * The testbed outlives the calling process (the CLI sets this). Otherwise the caller owns it, and
   * `down --orphans` may remove it once the caller has exited without tearing it down.
   */
  persistent?: boolean;
}

const MARKER = '.fedctl-testbed';

/** $FEDCTL_PROVIDER (set by `make e2e-kind`) picks the provider when the caller does not. */
export function providerFromEnv(env: NodeJS.ProcessEnv = process.env): Provider {
  const v = env.FEDCTL_PROVIDER;
  if (v === undefined || v === '' || v === 'local') return 'local';
  if (v === 'kind') return 'kind';
  throw new Error(`FEDCTL_PROVIDER must be "local" or "kind", got "${v}"`);
}

function stderrLog(): Log {
  const t0 = Date.now();
  return (line) => process.stderr.write(`[testbed +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);
}

const dirOf = (o: CommonOptions): string => resolve(o.stateDir ?? defaultStateDir());

/** Processes of a state that are not running (deliberately stopped ones excluded). */
function deadProcesses(state: TestbedState): string[] {
  return allProcesses(state)
    .filter((p) => p.pid !== null && !isRunning(p))
    .map((p) => p.name);
}

function sameShape(
  state: TestbedState,
  o: Required<Pick<UpOptions, 'clusters' | 'nodes' | 'clusterDomain' | 'provider' | 'profile'>>,
) {
  const s = state.options;
  return (
    (s.profile ?? 'full') === o.profile &&
    s.clusters === o.clusters &&
    s.nodes === o.nodes &&
    s.clusterDomain === o.clusterDomain &&
    s.provider === o.provider
  );
}

/** Log tails of every recorded process, for failure reports. */
export function diagnostics(state: TestbedState, lines = 25): string {
  const parts: string[] = [];
  for (const p of allProcesses(state)) {
    const status =
      p.pid === null ? 'stopped' : isRunning(p) ? `running (pid ${p.pid})` : `NOT running (pid ${p.pid})`;
    parts.push(`----- ${p.name}: ${status}; log ${p.log}\n${tail(p.log, lines)}`);
  }
  return parts.join('\n');
}

/**
 * Starts a testbed (or returns the running one when it has the requested shape). Prints progress
 * through `log`; returns the status (also what `status -o json` prints).
 */
export async function up(opts: UpOptions = {}): Promise<TestbedStatus> {
  const log = opts.log ?? stderrLog();
  const stateDir = dirOf(opts);
  const profile = planProfile(opts.profile ?? 'full', { nodes: opts.nodes, netns: opts.netns }); // validates
  const want = {
    clusters: opts.clusters ?? 3,
    nodes: profile.nodes,
    clusterDomain: opts.clusterDomain ?? ('distinct' as DomainMode),
    provider: opts.provider ?? providerFromEnv(),
    profile: profile.profile,
  };
  planClusters(want.clusters, want.clusterDomain); // validates
  if (want.profile !== 'full' && want.provider !== 'local') {
    throw new Error(`--profile ${want.profile} needs the local provider (kind clusters always run in full)`);
  }
  const netns = want.provider === 'local' && profile.netns;

  await mkdir(stateDir, { recursive: true });
  return withLock(stateDir, async () => {
    const existing = await readState(stateDir);
    if (existing) {
      const dead = deadProcesses(existing);
      if (existing.phase === 'ready' && dead.length === 0) {
        if (!sameShape(existing, want)) {
          throw new Error(
            `a testbed with ${existing.options.clusters} ${existing.options.profile ?? 'full'} cluster(s) x ${existing.options.nodes} node(s), domain ` +
              `${existing.options.clusterDomain}, provider ${existing.provider} is already up in ${stateDir}; ` +
              'run `npm run testbed -- down` first to change its shape',
          );
        }
        log(`testbed already up in ${stateDir} (${existing.clusters.length} clusters); nothing to do`);
        return toStatus(existing);
      }
      log(
        `found a ${existing.phase === 'ready' ? 'broken' : 'half-started'} testbed in ${stateDir}` +
          `${dead.length ? ` (not running: ${dead.join(', ')})` : ''}; tearing it down first`,
      );
      const survivors = await teardown(existing, log);
      if (survivors.length > 0) {
        throw new Error(`could not stop the old testbed's processes: ${survivors.join(', ')}`);
      }
      await clearDir(stateDir);
    }
    return startFresh(stateDir, want, netns, opts, log);
  });
}

async function startFresh(
  stateDir: string,
  want: { clusters: number; nodes: number; clusterDomain: DomainMode; provider: Provider; profile: Profile },
  netns: boolean,
  opts: UpOptions,
  log: Log,
): Promise<TestbedStatus> {
  await writeFile(
    join(stateDir, MARKER),
    'state directory of a fedctl testbed; `npm run testbed -- down` removes it\n',
  );
  if (netns) await checkNetnsSupport();
  const binaries = want.provider === 'local' ? await ensureBinaries(log) : null;
  const id = newTestbedId(netns ? usedIdBytes(await listNetns()) : new Set());
  const state: TestbedState = {
    version: 1,
    id,
    idByte: idByteOf(id),
    provider: want.provider,
    phase: 'starting',
    createdAt: new Date().toISOString(),
    options: { ...want, netns },
    stateDir,
    kubeconfig: join(stateDir, 'kubeconfig'),
    binDir: binaries?.dir ?? null,
    netns: [],
    fabricNetns: null,
    processes: [],
    clusters: [],
  };
  await mkdir(join(stateDir, 'logs'), { recursive: true });
  await writeState(state);
  await register({
    id,
    stateDir,
    createdAt: state.createdAt,
    owner: opts.persistent ? null : { pid: process.pid, startTicks: processStartTicks(process.pid) ?? null },
  });
  const t0 = Date.now();
  log(
    `starting ${want.clusters} ${want.profile} ${want.provider} cluster(s) x ${want.nodes} node(s), ${want.clusterDomain} cluster domain, id ${id}, state in ${stateDir}`,
  );
  try {
    if (want.provider === 'local') await upLocal({ state, binaries: binaries!, log });
    else await upKind(state, log, { image: opts.kindImage });
    await writeState(state);
  } catch (e) {
    log(`up failed: ${(e as Error).message.split('\n')[0]}`);
    process.stderr.write(`${diagnostics(state)}\n`);
    if (!opts.keepOnFailure) {
      log('cleaning up the half-started testbed (keepOnFailure / --keep-on-failure keeps it)');
      try {
        const survivors = await teardown(state, log);
        if (survivors.length === 0) {
          // Nothing runs any more: drop the state so `status` says so, keep the logs to read.
          await rm(stateFile(stateDir), { force: true });
          log(`logs kept in ${stateDir}; \`npm run testbed -- down\` removes them`);
        }
      } catch (err) {
        log(`cleanup failed: ${(err as Error).message}`);
      }
    }
    throw e;
  }
  log(`testbed up in ${((Date.now() - t0) / 1000).toFixed(1)}s; kubeconfig ${state.kubeconfig}`);
  return toStatus(state);
}

/** Removes everything in a testbed directory except the lock file held by the caller. */
async function clearDir(dir: string): Promise<void> {
  for (const entry of readdirSync(dir)) {
    if (entry !== 'lock') await rm(join(dir, entry), { recursive: true, force: true });
  }
}

/** The running testbed's status; throws when there is none. */
export async function status(opts: CommonOptions = {}): Promise<TestbedStatus> {
  const s = await readStateOrThrow(dirOf(opts));
  return toStatus(s);
}

/** The raw state (pids, ports, log paths) for suites that need more than the status. */
export async function readTestbedState(opts: CommonOptions = {}): Promise<TestbedState> {
  return readStateOrThrow(dirOf(opts));
}

async function readStateOrThrow(dir: string): Promise<TestbedState> {
  const s = await readState(dir);
  if (!s) throw new Error(`no testbed in ${dir}; start one with \`npm run testbed -- up\``);
  return s;
}

export interface DownResult {
  /** False when there was nothing to tear down. */
  removed: boolean;
  /** Recorded processes still alive after teardown (should be empty). */
  survivors: string[];
}

async function teardown(state: TestbedState, log: Log): Promise<string[]> {
  // Sync first (it talks to the API servers), then per cluster from the top of the stack down.
  const order = ['kwok', 'coredns', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'];
  await Promise.all(state.processes.map((p) => stopProcess(p)));
  await Promise.all(
    state.clusters.map(async (c) => {
      const procs = [...c.processes].sort(
        (a, b) => order.indexOf(a.name.split('/')[1] ?? '') - order.indexOf(b.name.split('/')[1] ?? ''),
      );
      for (const p of procs) await stopProcess(p);
    }),
  );
  if (state.provider === 'kind') await downKind(state, log);
  // Node namespaces first, the fabric last.
  const netns = [...state.netns].sort(
    (a, b) => Number(a.endsWith('-fabric')) - Number(b.endsWith('-fabric')),
  );
  for (const ns of netns) await deleteNetns(ns);
  const survivors = allProcesses(state)
    .filter((p) => isRunning(p))
    .map((p) => `${p.name} (pid ${p.pid})`);
  if (survivors.length === 0) await unregister(state.id);
  const stopped = allProcesses(state).filter((p) => p.pid !== null).length;
  log(`stopped ${stopped} process(es), deleted ${netns.length} network namespace(s)`);
  return survivors;
}

function safeToRemove(dir: string): boolean {
  const bad = new Set(['/', homedir(), resolve(homedir(), '..'), '/tmp', '/root', '/work']);
  return !bad.has(dir) && existsSync(join(dir, MARKER));
}

/** Stops every recorded process, deletes recorded network namespaces, removes the state directory. */
export async function down(opts: CommonOptions = {}): Promise<DownResult> {
  const log = opts.log ?? stderrLog();
  const dir = dirOf(opts);
  if (!existsSync(dir)) {
    log(`no testbed in ${dir}; nothing to do`);
    return { removed: false, survivors: [] };
  }
  return withLock(dir, async () => {
    const state = await readState(dir);
    let survivors: string[] = [];
    if (state) {
      survivors = await teardown(state, log);
    } else {
      log(`no state file in ${dir}; only removing the directory`);
    }
    if (survivors.length > 0) {
      throw new Error(
        `these testbed processes survived SIGKILL: ${survivors.join(', ')}; state kept in ${dir}`,
      );
    }
    if (safeToRemove(dir)) {
      await rm(dir, { recursive: true, force: true });
      log(`removed ${dir}`);
    } else if (readdirSync(dir).some((e) => e !== 'lock')) {
      log(`left ${dir} in place: it is not marked as a testbed directory (${MARKER} missing)`);
    }
    return { removed: state !== undefined, survivors };
  });
}

export interface StopApiServerOptions extends CommonOptions {
  /** SIGKILL at once (a crash) instead of SIGTERM with a 5 s grace period. */
  hard?: boolean;
}

/** Stops one cluster's API server (simulates an outage); etcd and the other components keep running. */
export async function stopClusterApiServer(name: string, opts: StopApiServerOptions = {}): Promise<void> {
  const log = opts.log ?? stderrLog();
  const dir = dirOf(opts);
  await withLock(dir, async () => {
    const rec = new StateRecorder(await readStateOrThrow(dir));
    await stopApiServer(rec, name, opts.hard);
    log(`${name}: kube-apiserver stopped${opts.hard ? ' (SIGKILL)' : ''}`);
  });
}

/** Starts it again with the same port, certificates and etcd data; resolves once /readyz is ok. */
export async function startClusterApiServer(name: string, opts: CommonOptions = {}): Promise<void> {
  const log = opts.log ?? stderrLog();
  const dir = dirOf(opts);
  await withLock(dir, async () => {
    const rec = new StateRecorder(await readStateOrThrow(dir));
    await startApiServer(rec, name, log);
  });
}

/** A client-node KubeConfig holding only the named cluster's context (one object per cluster). */
export function kubeConfigFor(status: TestbedStatus, name: string): KubeConfig {
  const all = new KubeConfig();
  all.loadFromFile(status.kubeconfig);
  const ctx = all.getContextObject(name);
  if (!ctx) throw new Error(`no context "${name}" in ${status.kubeconfig}`);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: all.clusters.filter((c) => c.name === ctx.cluster),
    users: all.users.filter((u) => u.name === ctx.user),
    contexts: [ctx],
    currentContext: name,
  });
  return kc;
}

export interface TestbedListing extends RegistryEntry {
  /** Clusters and running/recorded processes, or why the entry is stale. */
  summary: string;
  /** The state directory is gone or holds another testbed: only the registry entry is left. */
  stale: boolean;
  /** Its owning process exited without tearing it down. */
  orphaned: boolean;
}

/** Every testbed registered on this machine (any state directory). */
export async function listTestbeds(): Promise<TestbedListing[]> {
  const out: TestbedListing[] = [];
  for (const e of listRegistered()) {
    const s = existsSync(e.stateDir) ? await readState(e.stateDir).catch(() => undefined) : undefined;
    if (!s || s.id !== e.id) {
      out.push({ ...e, stale: true, orphaned: false, summary: 'stale (state directory gone or reused)' });
      continue;
    }
    const procs = allProcesses(s);
    const running = procs.filter((p) => isRunning(p)).length;
    const orphaned = e.owner !== null && e.owner !== undefined && !isRunning(e.owner);
    const owner = e.owner
      ? `owner pid ${e.owner.pid}${orphaned ? ' (gone: orphaned)' : ''}`
      : 'persistent (CLI)';
    out.push({
      ...e,
      stale: false,
      orphaned,
      summary: `${s.provider}, ${s.clusters.length} cluster(s), ${running}/${procs.length} processes running, ${s.phase}, ${owner}`,
    });
  }
  return out;
}

/**
 * Tears down testbeds whose owning process has exited (suites that crashed before their teardown)
 * and drops stale registry entries. Testbeds in use by a live process, and CLI-started ones, stay.
 */
export async function downOrphans(opts: Pick<CommonOptions, 'log'> = {}): Promise<number> {
  const log = opts.log ?? stderrLog();
  let n = 0;
  for (const e of await listTestbeds()) {
    if (e.stale) {
      await unregister(e.id);
      log(`dropped stale registry entry ${e.id} (${e.stateDir})`);
    } else if (e.orphaned) {
      log(`tearing down orphaned testbed ${e.id} in ${e.stateDir}`);
      await down({ stateDir: e.stateDir, log });
      n++;
    } else {
      log(`keeping testbed ${e.id} in ${e.stateDir}: ${e.summary}`);
    }
  }
  return n;
}
