// `make bench-scale`: the scale curve. For each cluster count a fresh light testbed (etcd,
// kube-apiserver and a token/namespace-only controller-manager per cluster; testbed/plan.ts), the
// controller on cluster0 with every cluster joined; for each object count, bulk FederatedConfigMap
// creates until every member holds every copy, then one template edit of each until every copy is
// updated; then the objects are deleted and the members emptied before the next count. Prints one
// table (times, writes, CPU per phase, memory, watches), the linearity checks against issue 11's
// goals, the heap per member copy fitted over the grid, and a projection to 100 clusters × 10,000
// objects. Not part of `make test`.
//
//   SCALE_CLUSTERS=3,6,10  SCALE_OBJECTS=1000,5000   the grid (defaults)
import { fileURLToPath } from 'node:url';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { CONFIGMAP_REF, FEDERATED_CONFIGMAP_REF } from '../src/kube/refs.ts';
import { deleteResource, listResource } from '../src/kube/resources.ts';
import { kubeFetch } from '../src/kube/transport.ts';
import { RECORD_SWEEP_MS } from '../src/propagation/controller.ts';
import { BUNDLE_ENTRY, buildBundle } from '../testbed/harness/fedctl.ts';
import { startFederation } from '../testbed/harness/federation.ts';
import { apply, clientNodeKubeConfig as loadKubeConfig, read } from '../testbed/harness/kube.ts';
import { MemberWrites, totalOf, writesBetween } from '../testbed/harness/metrics.ts';
import { sleep, waitFor } from '../testbed/harness/wait.ts';
import { readTestbedState, type TestbedState } from '../testbed/index.ts';
import { cpuPhase } from './cpu.ts';
import { pool } from './stats.ts';
import {
  CONCURRENCY,
  createFederatedConfigMaps,
  editFederatedConfigMaps,
  rssBytes,
  waitForCopies,
} from './workloads.ts';

// ---------------------------------------------------------------- pure parts (bench/scale.test.ts)

/** One cell of the grid. Writes are per member copy (members) and per federated object (host). */
export interface Cell {
  clusters: number;
  objects: number;
  convergeMs: number;
  updateMs: number;
  /** Member ConfigMap writes during the bulk create / objects × clusters. */
  memberWritesCreate: number;
  memberWritesUpdate: number;
  /** Host FederatedConfigMap writes (status included) beyond the user's own, per object. */
  hostWritesCreate: number;
  hostWritesUpdate: number;
  /** Controller CPU per member copy during the bulk create / update (ms). */
  controllerCpuCreateMs: number;
  controllerCpuUpdateMs: number;
  /** CPU of every API server and etcd during the bulk create / update (core-seconds). */
  serverCpuCreate: number;
  serverCpuUpdate: number;
  rssBytes: number;
  heapBytes: number;
  /** WATCH requests open on each member's API server, averaged over members, net of no controller. */
  watchesPerMember: number;
}

/** "3,6,10" → [3, 6, 10]; empty/unset → the default. */
export function parseGrid(name: string, value: string | undefined, fallback: readonly number[]): number[] {
  if (value === undefined || value.trim() === '') return [...fallback];
  const out = value.split(',').map((s) => Number(s.trim()));
  if (out.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`${name} must be a comma-separated list of positive integers, got "${value}"`);
  return [...new Set(out)].sort((a, b) => a - b);
}

/** Open WATCH requests in one API server's /metrics text (`apiserver_longrunning_requests`, a gauge). */
export function openWatches(metricsText: string): number {
  let n = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('apiserver_longrunning_requests{') || !line.includes('verb="WATCH"')) continue;
    n += Number(line.slice(line.lastIndexOf('}') + 1).trim());
  }
  return n;
}

/**
 * For each value of `fixed` (ascending), the cells with the smallest and the largest `along`; values
 * measured at one count of `along` only are left out.
 */
export function ends(
  cells: readonly Cell[],
  along: 'objects' | 'clusters',
  fixed: 'objects' | 'clusters',
): Array<{ at: number; lo: Cell; hi: Cell }> {
  const out: Array<{ at: number; lo: Cell; hi: Cell }> = [];
  for (const at of [...new Set(cells.map((x) => x[fixed]))].sort((a, b) => a - b)) {
    const row = cells.filter((x) => x[fixed] === at).sort((a, b) => a[along] - b[along]);
    const lo = row[0];
    const hi = row.at(-1);
    if (lo && hi && lo !== hi) out.push({ at, lo, hi });
  }
  return out;
}

/**
 * Heap per cached member copy at each cluster count: the heap difference between the smallest and
 * largest object count, divided by the copies that difference adds ((n2 − n1) × clusters).
 */
export function heapPerCopy(cells: readonly Cell[]): Map<number, number> {
  return new Map(
    ends(cells, 'objects', 'clusters').map(({ at: c, lo, hi }) => [
      c,
      (hi.heapBytes - lo.heapBytes) / ((hi.objects - lo.objects) * c),
    ]),
  );
}

/** Memory as fixed + (perObject + perCopy × clusters) × objects, fitted over the grid. */
export interface MemoryModel {
  /** Bytes per cached member copy. */
  perCopy: number;
  /** Bytes per federated object whatever the cluster count (the host's cache, per-object records). */
  perObject: number;
  /** Bytes with no objects. */
  fixed: number;
}

/**
 * Fits memory = fixed + (perObject + perCopy × C) × N. At each cluster count C measured with two
 * object counts, the cost per federated object is the difference over the objects added; a
 * least-squares line through those costs against C gives perCopy (slope) and perObject (intercept).
 * With one cluster count the whole per-object cost is charged to its copies (perObject 0). fixed is
 * the mean over the cells of what the per-object costs leave.
 */
export function memoryModel(cells: readonly Cell[], bytes: (x: Cell) => number): MemoryModel {
  const points = ends(cells, 'objects', 'clusters').map(({ at: c, lo, hi }) => ({
    c,
    y: (bytes(hi) - bytes(lo)) / (hi.objects - lo.objects),
  }));
  if (points.length === 0)
    throw new Error('a memory model needs two object counts at one cluster count (SCALE_OBJECTS=1000,5000)');
  let perCopy: number;
  let perObject: number;
  if (points.length === 1) {
    perCopy = points[0]!.y / points[0]!.c;
    perObject = 0;
  } else {
    const mean = (f: (p: { c: number; y: number }) => number) =>
      points.reduce((a, p) => a + f(p), 0) / points.length;
    const mc = mean((p) => p.c);
    const my = mean((p) => p.y);
    perCopy = mean((p) => (p.c - mc) * (p.y - my)) / mean((p) => (p.c - mc) ** 2);
    perObject = my - perCopy * mc;
  }
  const fixed =
    cells.reduce((a, x) => a + bytes(x) - (perObject + perCopy * x.clusters) * x.objects, 0) / cells.length;
  return { perCopy, perObject, fixed };
}

/** The memory goal: at most 1 KiB of heap per cached member copy. */
export const HEAP_PER_COPY_GOAL = 1024;

export interface Check {
  what: string;
  ratio: number;
  limit: number;
  ok: boolean;
}

/**
 * The goals scaled to the grid measured: time(5000 obj) ≤ 5.5 × time(1000 obj) allows 1.1× the
 * object ratio; time(10 clusters) ≤ 3.7 × time(3 clusters) allows 1.11× the cluster ratio. Compares
 * the smallest and largest count of each axis, for converge and update times.
 */
export function linearityChecks(cells: readonly Cell[]): Check[] {
  const out: Check[] = [];
  const axis = (
    key: 'objects' | 'clusters',
    other: 'objects' | 'clusters',
    slack: number,
    label: (lo: number, hi: number, fixed: number) => string,
  ) => {
    for (const { at: fixed, lo, hi } of ends(cells, key, other)) {
      const limit = slack * (hi[key] / lo[key]);
      for (const [name, t] of [
        ['converge', (x: Cell) => x.convergeMs],
        ['update', (x: Cell) => x.updateMs],
      ] as const) {
        const ratio = t(hi) / t(lo);
        out.push({ what: `${name} ${label(lo[key], hi[key], fixed)}`, ratio, limit, ok: ratio <= limit });
      }
    }
  };
  axis('objects', 'clusters', 5.5 / 5, (lo, hi, c) => `${hi} vs ${lo} objects at ${c} clusters`);
  axis('clusters', 'objects', 3.7 / (10 / 3), (lo, hi, n) => `${hi} vs ${lo} clusters at ${n} objects`);
  return out;
}

export interface Projection {
  clusters: number;
  objects: number;
  heapBytes: number;
  rssBytes: number;
  watches: number;
  convergeMs: number;
  /** Which measured cells the projection came from. */
  basis: string;
}

/**
 * Projects to `target`, memory from the model fitted over the grid, the rest from the largest
 * cluster count that has two object counts (lo, hi):
 *   memory             M(C', N') = fixed + (perObject + perCopy × C') × N'   (memoryModel; heap, RSS)
 *   watch connections  W(C') = w × C'  (w = WATCHes per member measured; independent of N)
 *   converge time      T(C', N') = T(hi) / (C × hi) × C' × N'  (time per copy at the largest cell)
 * The converge time is that of a cold start in which every copy is written; a restart that finds
 * every copy already right does no writes, so it bounds the restart from above.
 */
export function project(cells: readonly Cell[], target: { clusters: number; objects: number }): Projection {
  const largest = ends(cells, 'objects', 'clusters').at(-1);
  if (!largest)
    throw new Error('a projection needs two object counts at one cluster count (SCALE_OBJECTS=1000,5000)');
  const { at: c, lo, hi } = largest;
  const memory = (m: MemoryModel) => m.fixed + (m.perObject + m.perCopy * target.clusters) * target.objects;
  return {
    ...target,
    heapBytes: memory(memoryModel(cells, (x) => x.heapBytes)),
    rssBytes: memory(memoryModel(cells, (x) => x.rssBytes)),
    watches: hi.watchesPerMember * target.clusters,
    convergeMs: (hi.convergeMs / (c * hi.objects)) * target.clusters * target.objects,
    basis: `${c} clusters × ${lo.objects} and ${hi.objects} objects`,
  };
}

const MiB = (b: number) => (b / 2 ** 20).toFixed(0);
const s = (ms: number) => (ms / 1000).toFixed(1);

/** The one table the benchmark prints. */
export function table(cells: readonly Cell[]): string {
  const perCopy = heapPerCopy(cells);
  const rows: string[][] = [
    [
      'clusters',
      'objects',
      'converge s',
      'update s',
      'member w/copy (create/update)',
      'host w/obj (create/update)',
      'ctrl CPU ms/copy (create/update)',
      'servers CPU s (create/update)',
      'ctrl RSS MiB',
      'ctrl heap MiB',
      'watches/member',
      'heap/copy B',
    ],
  ];
  for (const c of [...cells].sort((a, b) => a.clusters - b.clusters || a.objects - b.objects)) {
    const hpc = perCopy.get(c.clusters);
    rows.push([
      String(c.clusters),
      String(c.objects),
      s(c.convergeMs),
      s(c.updateMs),
      `${c.memberWritesCreate.toFixed(2)} / ${c.memberWritesUpdate.toFixed(2)}`,
      `${c.hostWritesCreate.toFixed(2)} / ${c.hostWritesUpdate.toFixed(2)}`,
      `${c.controllerCpuCreateMs.toFixed(2)} / ${c.controllerCpuUpdateMs.toFixed(2)}`,
      `${c.serverCpuCreate.toFixed(1)} / ${c.serverCpuUpdate.toFixed(1)}`,
      MiB(c.rssBytes),
      MiB(c.heapBytes),
      c.watchesPerMember.toFixed(1),
      hpc === undefined ? '-' : hpc.toFixed(0),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `| ${r.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`).join('\n');
}

// ---------------------------------------------------------------- the run

const NS = 'scale';
const log = (m: string) => process.stderr.write(`[bench-scale] ${m}\n`);

async function memberCount(kc: KubeConfig): Promise<number> {
  const { items } = await listResource(kc, CONFIGMAP_REF, {
    namespace: NS,
    labelSelector: 'kubefed.io/managed',
  });
  return items.length;
}

async function apiserverMetrics(kc: KubeConfig): Promise<string> {
  const res = await kubeFetch(kc, { method: 'GET', path: '/metrics', accept: 'text/plain' });
  const text = await res.text();
  if (res.status !== 200)
    throw new Error(`GET /metrics on ${kc.getCurrentContext()}: HTTP ${res.status}: ${text.slice(0, 200)}`);
  return text;
}

async function watchesOn(members: readonly KubeConfig[]): Promise<number[]> {
  return Promise.all(members.map(async (m) => openWatches(await apiserverMetrics(m))));
}

/** "min–max MiB per cluster (etcd a, kube-apiserver b, …: means)" from each recorded process's RSS. */
function clusterMemory(state: TestbedState): string {
  const totals = state.clusters.map((c) => c.processes.reduce((a, p) => a + rssBytes(p.pid!), 0));
  const byComponent = new Map<string, number>();
  for (const c of state.clusters)
    for (const p of c.processes) {
      const name = p.name.split('/')[1]!;
      byComponent.set(name, (byComponent.get(name) ?? 0) + rssBytes(p.pid!) / state.clusters.length);
    }
  const parts = [...byComponent].map(([n, b]) => `${n} ${MiB(b)}`).join(', ');
  return `${MiB(Math.min(...totals))}–${MiB(Math.max(...totals))} MiB (means: ${parts})`;
}

async function runClusters(clusters: number, objectCounts: readonly number[]): Promise<Cell[]> {
  log(`---- ${clusters} light clusters`);
  const t0 = performance.now();
  const fed = await startFederation({
    name: `scale-${clusters}`,
    clusters,
    profile: 'light',
    // KubeFed's default health check: the e2e suites' 1 s check flaps clusters NotReady under load.
    clusterHealthCheck: { period: '10s', timeout: '5s', failureThreshold: 3, successThreshold: 1 },
    // One controller; under the shared machine's load (~20) it lost its 10 s lease renewal 4 times in
    // 5 minutes, each loss restarting every controller mid-measurement.
    controllerArgs: ['--no-leader-elect'],
    // The inspector, on loopback, forces a full collection before the heap is read (live objects only).
    controllerNodeArgs: ['--inspect=127.0.0.1:0'],
    // What the image runs (built at the start of main()).
    controllerEntry: BUNDLE_ENTRY,
  });
  let failed = true;
  try {
    log(`testbed + controller + ${clusters} joins ready in ${s(performance.now() - t0)} s`);
    const state = await readTestbedState({ stateDir: fed.tb.stateDir });
    log(`testbed RSS per light cluster, idle: ${clusterMemory(state)}`);
    const names = fed.tb.status.clusters.map((c) => c.name);
    const kcs = names.map((c) => loadKubeConfig({ kubeconfig: fed.kubeconfig, context: c }));
    const host = kcs[0]!;
    const memberWrites = new MemberWrites(fed.kubeconfig, names, { resources: { '': ['configmaps'] } });
    const hostWrites = new MemberWrites(fed.kubeconfig, ['cluster0'], {
      resources: { 'types.kubefed.io': ['federatedconfigmaps'] },
      subresources: true,
    });
    await apply(fed.host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await apply(fed.host, {
      apiVersion: 'types.kubefed.io/v1beta1',
      kind: 'FederatedNamespace',
      metadata: { name: NS, namespace: NS },
      spec: { placement: { clusterSelector: {} } },
    } as KubernetesObject);
    for (const c of names)
      await waitFor(`namespace ${NS} in ${c}`, () => read(fed.api[c]!, 'v1', 'Namespace', NS), {
        timeoutMs: 120_000,
      });

    const cells: Cell[] = [];
    for (const n of objectCounts) {
      const copies = n * clusters;
      let m0 = await memberWrites.snapshot();
      let h0 = await hostWrites.snapshot();
      let cpu = cpuPhase(() => fed.controller.pid);
      let t = performance.now();
      await createFederatedConfigMaps(host, NS, n);
      await waitForCopies(kcs, NS, n, 0, 1_800_000);
      const convergeMs = performance.now() - t;
      const createCpu = cpu();
      const mCreate = totalOf(writesBetween(m0, await memberWrites.snapshot()));
      const hCreate = totalOf(writesBetween(h0, await hostWrites.snapshot()));
      log(`${clusters} × ${n}: converged in ${s(convergeMs)} s`);

      m0 = await memberWrites.snapshot();
      h0 = await hostWrites.snapshot();
      cpu = cpuPhase(() => fed.controller.pid);
      t = performance.now();
      await editFederatedConfigMaps(host, NS, n, 1);
      await waitForCopies(kcs, NS, n, 1, 1_800_000);
      const updateMs = performance.now() - t;
      const updateCpu = cpu();
      const mUpdate = totalOf(writesBetween(m0, await memberWrites.snapshot()));
      const hUpdate = totalOf(writesBetween(h0, await hostWrites.snapshot()));
      log(`${clusters} × ${n}: updated in ${s(updateMs)} s`);

      // Status writes may trail the last member write, and the controller prunes what it remembers of
      // each object only every RECORD_SWEEP_MS: memory is read once both are done (steady state).
      await sleep(RECORD_SWEEP_MS + 5000);
      await fed.controller.collectGarbage();
      const heapBytes = await fed.controller.metric('nodejs_heap_used_bytes');
      const watches = await watchesOn(kcs);
      cells.push({
        clusters,
        objects: n,
        convergeMs,
        updateMs,
        memberWritesCreate: mCreate / copies,
        memberWritesUpdate: mUpdate / copies,
        // The user's own create / edit of each object is not the controller's.
        hostWritesCreate: hCreate / n - 1,
        hostWritesUpdate: hUpdate / n - 1,
        controllerCpuCreateMs: (createCpu.controller / copies) * 1000,
        controllerCpuUpdateMs: (updateCpu.controller / copies) * 1000,
        serverCpuCreate: createCpu['kube-apiserver'] + createCpu.etcd,
        serverCpuUpdate: updateCpu['kube-apiserver'] + updateCpu.etcd,
        rssBytes: rssBytes(fed.controller.pid!),
        heapBytes,
        watchesPerMember: watches.reduce((a, b) => a + b, 0) / clusters,
      });

      log(`${clusters} × ${n} (watches still gross): ${JSON.stringify(cells.at(-1))}`);
      // Empty the members before the next count, so its memory holds only its own copies (after the
      // last count the testbed goes anyway).
      if (n === objectCounts.at(-1)) continue;
      t = performance.now();
      const { items } = await listResource(host, FEDERATED_CONFIGMAP_REF, { namespace: NS });
      await pool(items, CONCURRENCY, (o) =>
        deleteResource(host, FEDERATED_CONFIGMAP_REF, o.metadata!.name!, NS),
      );
      await waitFor(
        `members of ${NS} emptied of ${copies} copies`,
        async () => (await Promise.all(kcs.map(memberCount))).every((x) => x === 0),
        { timeoutMs: 1_800_000, intervalMs: 1000 },
      );
      await waitFor(
        'FederatedConfigMaps gone from the host',
        async () => (await listResource(host, FEDERATED_CONFIGMAP_REF, { namespace: NS })).items.length === 0,
        { timeoutMs: 600_000, intervalMs: 1000 },
      );
      log(`${clusters} × ${n}: deleted in ${s(performance.now() - t)} s`);
    }

    // Watches with the controller stopped: what the API servers open on themselves (loopback informers).
    await fed.controller.stop();
    await sleep(3000);
    const own = (await watchesOn(kcs)).reduce((a, b) => a + b, 0) / clusters;
    log(`WATCHes per member with the controller stopped (the API server's own): ${own.toFixed(1)}`);
    for (const c of cells) c.watchesPerMember -= own;
    memberWrites.close();
    hostWrites.close();
    failed = false;
    return cells;
  } finally {
    await fed.stop(failed);
  }
}

async function main(): Promise<void> {
  const clusterCounts = parseGrid('SCALE_CLUSTERS', process.env.SCALE_CLUSTERS, [3, 6, 10]);
  const objectCounts = parseGrid('SCALE_OBJECTS', process.env.SCALE_OBJECTS, [1000, 5000]);
  await buildBundle();
  const cells: Cell[] = [];
  for (const c of clusterCounts) cells.push(...(await runClusters(c, objectCounts)));
  const out: string[] = [table(cells), ''];
  for (const ch of linearityChecks(cells))
    out.push(
      `${ch.ok ? 'ok  ' : 'MISS'} ${ch.what}: ${ch.ratio.toFixed(2)}× (goal ≤ ${ch.limit.toFixed(2)}×)`,
    );
  try {
    const heap = memoryModel(cells, (x) => x.heapBytes);
    const perCopyOk = heap.perCopy <= HEAP_PER_COPY_GOAL;
    out.push(
      `${perCopyOk ? 'ok  ' : 'MISS'} heap per cached member copy: ${heap.perCopy.toFixed(0)} B (goal ≤ ${HEAP_PER_COPY_GOAL} B); ` +
        `plus ${heap.perObject.toFixed(0)} B per federated object at any cluster count`,
    );
    const p = project(cells, { clusters: 100, objects: 10_000 });
    out.push(
      '',
      `projection to ${p.clusters} clusters × ${p.objects} objects (memory fitted over the grid, the rest from ${p.basis}):`,
      `  controller heap ${(p.heapBytes / 2 ** 30).toFixed(2)} GiB, RSS ${(p.rssBytes / 2 ** 30).toFixed(2)} GiB`,
      `  ${p.watches.toFixed(0)} WATCH requests on the members (${(p.watches / p.clusters).toFixed(1)} each)`,
      `  cold converge (every copy written; bounds a restart from above) ${(p.convergeMs / 60_000).toFixed(0)} min`,
    );
  } catch (e) {
    out.push('', `no projection: ${(e as Error).message}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
