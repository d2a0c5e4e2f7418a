// `make bench`: each peer (the federation under test; today fedctl) on its own fresh 3-cluster
// local testbed, every figure next to a baseline measured in the same run on the same clusters.
// Not part of `make test`.
//
//   limit          the writes any federation with per-object status must make (bench/limit.ts), by a
//                  plain pooled client at CONCURRENCY with the peer stopped; the faster of two orders
//   bulk create    N FederatedConfigMaps → 3N member copies matching, vs. the limit
//   bulk update    N template edits → 3N copies updated, vs. the limit for updates
//   user writes    N plain host ConfigMaps while the peer propagates a bulk create started at the same
//                  moment, vs. the same creates with the peer idle
//   latency        one FederatedDeployment → in every member (p50/p99), vs. a plain client writing the
//                  Deployment to every member
//   steady state   writes in 60 s with nothing changing (resync every 20 s), from the API servers'
//                  apiserver_request_total, net of a window of the same length with the peer stopped
//   restart        the same 60 s after a restart, and the time until the peer is steady (queues empty,
//                  no writes for 5 s)
//   memory         controller RSS and V8 heap after the N objects and after the restart
//   dns            ServiceDNSRecord → resolves from the other clusters, vs. the same block by hand
//
// BENCH_OBJECTS (default 1000) objects; BENCH_FEDCTL_ARGS extra controller flags, BENCH_FEDCTL_NODE_ARGS
// flags for Node itself (e.g. --max-semi-space-size=4); BENCH_FEDCTL_ENTRY=sources
// runs the checkout's TypeScript instead of the built bundle; BENCH_REPEAT (default 1) repeats the propagation workloads
// (limit, bulk create/update, user writes) on the same testbed after deleting the objects.
// BENCH_LOAD=N runs N processes that each spin one core for the whole run (bench/load.ts): the same
// figures under load; their CPU is left out of the CPU figures.
// stdout: one table, then a line `BENCH_JSON {…}` with every raw sample. Progress goes to stderr.
import { mkdtempSync, readdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import {
  CONFIGMAP_REF,
  DEPLOYMENT_REF,
  FEDERATED_CONFIGMAP_REF,
  FEDERATED_DEPLOYMENT_REF,
} from '../src/kube/refs.ts';
import { createResource, tryGetResource } from '../src/kube/resources.ts';
import {
  apply,
  clusterApi,
  clientNodeKubeConfig as loadKubeConfig,
  mergePatch,
  read,
  remove,
} from '../testbed/harness/kube.ts';
import {
  describeWrites,
  FEDERATED_RESOURCES,
  MemberWrites,
  totalOf,
  type WriteFilter,
  type WriteSnapshot,
  writesBetween,
} from '../testbed/harness/metrics.ts';
import { type E2ETestbed, startTestbed } from '../testbed/harness/testbed.ts';
import { sleep, waitFor } from '../testbed/harness/wait.ts';
import { resolveA } from '../testbed/index.ts';
import { type CpuRole, cpuPhase } from './cpu.ts';
import { fastest, type LimitClients, type LimitTiming, limitCreate, limitUpdate } from './limit.ts';
import { parseLoad, startLoad } from './load.ts';
import { type BenchTestbed, installFedctlCrds, type Peer, peersFromEnv } from './peer.ts';
import { median, percentile } from './stats.ts';
import { type FigureSpec, formatTable, type Results, record, tableRows } from './table.ts';
import {
  CONCURRENCY,
  createFederatedConfigMaps,
  createPlainConfigMaps,
  deleteAllAndWait,
  deleteFederatedConfigMaps,
  editFederatedConfigMaps,
  ensureNamespace,
  HOST_WRITE_FILTER,
  MANAGED,
  MEMBER_WRITE_FILTER,
  peakRssBytes,
  rssBytes,
  USER_LABEL,
  waitForCopies,
} from './workloads.ts';

const N = Number(process.env.BENCH_OBJECTS ?? 1000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 1);
// 100: with fewer, "p99" is the single slowest sample.
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 100);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_S ?? 60) * 1000;
const QUIET_MS = 5000;
const HOST = 'cluster0';
const CLUSTERS = ['cluster0', 'cluster1', 'cluster2'];
const NS = {
  fed: 'bench-fed', // federated (FederatedNamespace): the peer's bulk workloads and latency
  phased: 'bench-limit-phased', // the limit baselines, written with the peer stopped
  pipelined: 'bench-limit-pipelined',
  user: 'bench-user', // the user's own host writes; never federated
  direct: 'bench-direct', // the latency baseline's plain Deployments
  chainHost: 'bench-chain-host', // the second latency baseline: one write to the host first …
  chain: 'bench-chain', // … then the copies
};
const MiB = 2 ** 20;

const F = {
  create: {
    name: `bulk create: ${N} FederatedConfigMaps → ${3 * N} copies matching (baseline: limit)`,
    unit: 's',
    decimals: 2,
    goal: { kind: 'ratio', max: 1.15 },
  },
  update: {
    name: `bulk update: ${N} template edits → ${3 * N} copies updated (baseline: limit)`,
    unit: 's',
    decimals: 2,
    goal: { kind: 'ratio', max: 1.15 },
  },
  cpuCreate: {
    name: 'CPU of every process during bulk create, core-seconds (baseline: limit)',
    unit: 's',
    decimals: 1,
  },
  serverCpuCreate: {
    name: 'of which API servers and etcd (baseline: limit)',
    unit: 's',
    decimals: 1,
  },
  controllerCpuCreate: {
    name: 'of which the controller, per federated object',
    unit: 'ms',
    decimals: 2,
  },
  controllerCpuUpdate: {
    name: 'controller CPU per template edit during bulk update',
    unit: 'ms',
    decimals: 2,
  },
  hostWrites: { name: 'host writes per object during bulk create (API server)', unit: '', decimals: 2 },
  memberWrites: { name: 'member writes per object during bulk create (API servers)', unit: '', decimals: 2 },
  user: {
    name: `user's ${N} host creates while the peer propagates (baseline: peer idle)`,
    unit: 's',
    decimals: 2,
    goal: { kind: 'ratio', max: 1.1 },
  },
  userShare: {
    name: `the same, baseline: next to the same ${N} FederatedConfigMap creates with the peer stopped`,
    unit: 's',
    decimals: 2,
  },
  p50: {
    name: `latency p50, FederatedDeployment → every member (baseline: plain client), ${LATENCY_SAMPLES} samples`,
    unit: 'ms',
    decimals: 0,
    goal: { kind: 'ratio', max: 1.2 },
  },
  p99: { name: 'latency p99 (same samples)', unit: 'ms', decimals: 0, goal: { kind: 'max', max: 300 } },
  p50Chain: {
    name: 'latency p50, baseline: a plain client writing it to the host first, then to every member',
    unit: 'ms',
    decimals: 0,
  },
  background: {
    name: `writes in ${WINDOW_MS / 1000} s with the peer stopped (background)`,
    unit: '',
    decimals: 0,
  },
  steady: {
    name: `writes in ${WINDOW_MS / 1000} s of steady state, net of background`,
    unit: '',
    decimals: 0,
    goal: { kind: 'max', max: 0 },
  },
  restartWrites: {
    name: `writes in ${WINDOW_MS / 1000} s after a restart, nothing changed, net of background`,
    unit: '',
    decimals: 0,
    goal: { kind: 'max', max: 0 },
  },
  restartSteady: {
    name: `restart → steady (queues empty, no writes for ${QUIET_MS / 1000} s)`,
    unit: 's',
    decimals: 1,
  },
  rss: {
    name: `controller RSS after the ${N} objects`,
    unit: 'MiB',
    decimals: 0,
    goal: { kind: 'max', max: 120 },
  },
  heap: {
    name: `controller V8 heap, live (after a full collection), after the ${N} objects`,
    unit: 'MiB',
    decimals: 0,
  },
  rssPeak: {
    name: 'controller peak RSS over the bulk workloads (VmHWM)',
    unit: 'MiB',
    decimals: 0,
  },
  rssSteady: {
    name: `controller RSS after ${WINDOW_MS / 1000} s of steady state`,
    unit: 'MiB',
    decimals: 0,
    goal: { kind: 'max', max: 120 },
  },
  rssRestart: {
    name: 'controller RSS after the restart',
    unit: 'MiB',
    decimals: 0,
    goal: { kind: 'max', max: 120 },
  },
  heapRestart: { name: 'controller V8 heap, live, after the restart', unit: 'MiB', decimals: 0 },
  dns: {
    name: 'dns: ServiceDNSRecord → resolves from both other clusters, median of 3 (baseline: by hand)',
    unit: 's',
    decimals: 2,
  },
} satisfies Record<string, FigureSpec>;

const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const results: Results = {};
/** Samples that are not table figures (limit phases, concurrent bulk create time, write breakdowns). */
const extra: Record<string, Record<string, unknown[]>> = {};
const note = (peer: string, key: string, value: unknown) => {
  const byKey = extra[peer] ?? {};
  extra[peer] = byKey;
  byKey[key] = [...(byKey[key] ?? []), value];
};

// Everything a federation may write in steady state, as the API servers count it. Leases are left
// out: a leader renewing its lease is not the federation writing.
const CRDS = join(import.meta.dirname, '..', 'crds');
const pluralsOf = (group: string) =>
  readdirSync(CRDS)
    .filter((f) => f.endsWith(`.${group}.yaml`))
    .map((f) => f.split('.')[0]!);
const STEADY_HOST_FILTER: WriteFilter = {
  resources: {
    'types.kubefed.io': pluralsOf('types.kubefed.io'),
    'core.kubefed.io': [...pluralsOf('core.kubefed.io'), 'propagatedversions'],
    'multiclusterdns.kubefed.io': pluralsOf('multiclusterdns.kubefed.io'),
    'scheduling.kubefed.io': pluralsOf('scheduling.kubefed.io'),
    '': ['events'],
    'events.k8s.io': ['events'],
  },
  subresources: true,
};

/** Host and member write counters, read together. */
class Writes {
  readonly #host: MemberWrites;
  readonly #members: MemberWrites;
  constructor(kubeconfig: string, host: WriteFilter, members: WriteFilter) {
    this.#host = new MemberWrites(kubeconfig, [HOST], host);
    this.#members = new MemberWrites(kubeconfig, CLUSTERS, members);
  }
  async snapshot(): Promise<[WriteSnapshot, WriteSnapshot]> {
    return Promise.all([this.#host.snapshot(), this.#members.snapshot()]);
  }
  close(): void {
    this.#host.close();
    this.#members.close();
  }
}
const between = (a: [WriteSnapshot, WriteSnapshot], b: [WriteSnapshot, WriteSnapshot]) => ({
  host: writesBetween(a[0], b[0]),
  members: writesBetween(a[1], b[1]),
});

async function benchPeer(peer: Peer): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), `fedctl-bench-${peer.name}-`));
  log(`${peer.name}: starting a fresh ${CLUSTERS.length}-cluster testbed in ${work}`);
  const testbed = await startTestbed({ clusters: CLUSTERS.length, stateDir: join(work, 'testbed') });
  // An error no promise carries (a child process that cannot spawn emits 'error') would end the
  // process past the finally below and leave the testbed running: tear it down first.
  const onFatal = async (e: unknown) => {
    log(`${peer.name}: fatal: ${e instanceof Error ? e.stack : String(e)}`);
    await peer.stop().catch(() => undefined);
    await testbed.down();
    process.exit(1);
  };
  process.once('uncaughtException', onFatal);
  const kubeconfig = testbed.status.kubeconfig;
  const tb: BenchTestbed = {
    kubeconfig,
    hostContext: HOST,
    clusters: CLUSTERS,
    workDir: work,
    binDir: testbed.binDir,
  };
  const kc: Record<string, KubeConfig> = Object.fromEntries(
    CLUSTERS.map((c) => [c, loadKubeConfig({ kubeconfig, context: c })]),
  );
  const host = kc[HOST]!;
  const members = CLUSTERS.map((c) => kc[c]!);
  const bulkWrites = new Writes(kubeconfig, HOST_WRITE_FILTER, MEMBER_WRITE_FILTER);
  const steadyWrites = new Writes(kubeconfig, STEADY_HOST_FILTER, { resources: FEDERATED_RESOURCES });
  const add = (f: FigureSpec, value: number, baseline?: number) => {
    record(results, peer.name, f.name, value, baseline);
    log(
      `${peer.name}: ${f.name}: ${value.toFixed(f.decimals)}${baseline === undefined ? '' : ` (baseline ${baseline.toFixed(f.decimals)})`}`,
    );
  };
  /** CPU of a peer's phase next to its limit's: the whole testbed, servers, the controller per object. */
  const addCpu = (
    phase: Record<CpuRole | 'total', number>,
    baseline: Record<string, number> | undefined,
    all: FigureSpec,
    servers: FigureSpec,
    controller: FigureSpec,
  ) => {
    const server = (c: Record<string, number>) => (c['kube-apiserver'] ?? 0) + (c.etcd ?? 0);
    add(all, phase.total, baseline?.total);
    add(servers, server(phase), baseline && server(baseline));
    add(controller, (phase.controller / N) * 1000);
  };
  let peakRss = 0;
  let failed = true;
  try {
    await (peer.installCrds ?? installFedctlCrds)(tb);
    for (const ns of [NS.phased, NS.pipelined, NS.direct, NS.chain]) await ensureNamespace(members, ns);
    await ensureNamespace([host], NS.chainHost);
    await ensureNamespace([host], NS.fed);
    await ensureNamespace([host], NS.user);
    const limitClients: LimitClients = { host, members: kc };

    for (let r = 0; r < REPEAT; r++) {
      log(`${peer.name}: repeat ${r + 1}/${REPEAT}, load average ${loadavg()[0]!.toFixed(2)}`);
      // ---- the limit, with no controller running (it would otherwise propagate these objects)
      await peer.stop();
      const limit = await measureLimit(limitClients, bulkWrites, r === 0);
      note(peer.name, 'limit', limit);
      if (r === 0) {
        await peer.start(tb);
        await apply(clusterApi(kubeconfig, HOST).api, {
          apiVersion: 'types.kubefed.io/v1beta1',
          kind: 'FederatedNamespace',
          metadata: { name: NS.fed, namespace: NS.fed },
          spec: { placement: { clusterSelector: {} } },
        } as KubernetesObject);
        for (const c of CLUSTERS)
          await waitFor(
            `namespace ${NS.fed} in ${c}`,
            () => read(clusterApi(kubeconfig, c).api, 'v1', 'Namespace', NS.fed),
            {
              timeoutMs: 120_000,
            },
          );
      } else await peer.restart();

      // ---- bulk create and update
      const before = await bulkWrites.snapshot();
      let cpu = cpuPhase(peer.pid);
      let t = performance.now();
      await createFederatedConfigMaps(host, NS.fed, N);
      await waitForCopies(members, NS.fed, N);
      add(F.create, (performance.now() - t) / 1000, limit.create.total / 1000);
      const createCpu = cpu();
      addCpu(createCpu, limit.create.cpu, F.cpuCreate, F.serverCpuCreate, F.controllerCpuCreate);
      note(peer.name, 'bulk create cpu (s)', createCpu);
      await sleep(QUIET_MS); // let the last status writes land before counting
      const during = between(before, await bulkWrites.snapshot());
      add(F.hostWrites, totalOf(during.host) / N, limit.hostWritesPerObject);
      add(F.memberWrites, totalOf(during.members) / N, limit.memberWritesPerObject);
      note(peer.name, 'bulk create writes', {
        host: describeWrites(during.host),
        members: describeWrites(during.members),
      });

      cpu = cpuPhase(peer.pid);
      t = performance.now();
      await editFederatedConfigMaps(host, NS.fed, N, 1);
      await waitForCopies(members, NS.fed, N, 1);
      add(F.update, (performance.now() - t) / 1000, limit.update.total / 1000);
      const updateCpu = cpu();
      add(F.controllerCpuUpdate, (updateCpu.controller / N) * 1000);
      note(peer.name, 'bulk update cpu (s)', { peer: updateCpu, limit: limit.update.cpu });
      await deleteFederatedConfigMaps(host, members, NS.fed);

      // ---- the user's own host writes: peer idle; next to the same FederatedConfigMap creates with
      // the peer stopped (what the creates cost the user whichever federation runs); and while the
      // peer propagates them
      t = performance.now();
      await createPlainConfigMaps(host, NS.user, N);
      const alone = performance.now() - t;
      await deleteAllAndWait(host, CONFIGMAP_REF, NS.user, USER_LABEL);
      peakRss = Math.max(peakRss, peer.pid() === undefined ? 0 : peakRssBytes(peer.pid()!));
      await peer.stop();
      t = performance.now();
      const [shared] = await Promise.all([
        createPlainConfigMaps(host, NS.user, N).then(() => performance.now() - t),
        createFederatedConfigMaps(host, NS.phased, N),
      ]);
      await deleteAllAndWait(host, CONFIGMAP_REF, NS.user, USER_LABEL);
      await deleteAllAndWait(host, FEDERATED_CONFIGMAP_REF, NS.phased);
      await peer.restart();
      t = performance.now();
      const [busy, propagation] = await Promise.all([
        createPlainConfigMaps(host, NS.user, N).then(() => performance.now() - t),
        createFederatedConfigMaps(host, NS.fed, N)
          .then(() => waitForCopies(members, NS.fed, N))
          .then(() => performance.now() - t),
      ]);
      add(F.user, busy / 1000, alone / 1000);
      add(F.userShare, busy / 1000, shared / 1000);
      note(peer.name, 'bulk create next to the user writes (s)', propagation / 1000);
      await deleteAllAndWait(host, CONFIGMAP_REF, NS.user, USER_LABEL);
      // The last repeat keeps its N objects for the figures below.
      if (r < REPEAT - 1) await deleteFederatedConfigMaps(host, members, NS.fed);
    }

    // ---- memory with the N objects cached
    await memory(peer, F.rss, F.heap, add);
    add(F.rssPeak, Math.max(peakRss, peakRssBytes(peer.pid()!)) / MiB);

    // ---- latency
    const lat = await latency(kc);
    add(F.p50, percentile(lat.fed, 50), percentile(lat.direct, 50));
    add(F.p99, percentile(lat.fed, 99), percentile(lat.direct, 99));
    add(F.p50Chain, percentile(lat.fed, 50), percentile(lat.chain, 50));
    note(peer.name, 'latency ms', lat);

    // ---- steady state, background (peer stopped), then restart
    if ((await waitQuiet(peer, steadyWrites, 120_000)) === undefined)
      note(peer.name, 'never steady', 'writes kept coming for 120 s; the steady window counts them');
    const steady = await windowWrites(steadyWrites, WINDOW_MS);
    add(F.rssSteady, rssBytes(peer.pid()!) / MiB);
    await peer.stop();
    const background = await windowWrites(steadyWrites, WINDOW_MS);
    add(F.background, totalOf(background.host) + totalOf(background.members));
    const restarted = performance.now();
    const s0 = await steadyWrites.snapshot();
    await peer.restart();
    const steadyAt = waitQuiet(peer, steadyWrites, 120_000);
    steadyAt.catch(() => undefined);
    // A restart slower than the window stretches it: the writes of the whole start still count.
    await sleep(WINDOW_MS - (performance.now() - restarted));
    const afterRestart = between(s0, await steadyWrites.snapshot());
    note(peer.name, 'restart window (s)', (performance.now() - restarted) / 1000);
    const net = (w: ReturnType<typeof between>) =>
      totalOf(w.host) + totalOf(w.members) - totalOf(background.host) - totalOf(background.members);
    add(F.steady, net(steady));
    add(F.restartWrites, net(afterRestart));
    const steadyMoment = await steadyAt;
    if (steadyMoment !== undefined) add(F.restartSteady, (steadyMoment - restarted) / 1000);
    for (const [k, w] of Object.entries({ steady, background, afterRestart }))
      note(peer.name, `${k} writes`, { host: describeWrites(w.host), members: describeWrites(w.members) });
    await memory(peer, F.rssRestart, F.heapRestart, add);

    // ---- dns (fedctl's own controller)
    if (peer.dns) {
      const d = await dns(testbed, kubeconfig);
      add(F.dns, median(d.viaPeer) / 1000, median(d.byHand) / 1000);
      note(peer.name, 'dns ms', d);
    }
    failed = false;
  } finally {
    if (failed) {
      process.stderr.write(`\n--- ${peer.name} controller log (tail) ---\n${peer.logTail?.(80) ?? ''}\n`);
      process.stderr.write(`\n--- testbed ---\n${await testbed.diagnostics()}\n`);
    }
    bulkWrites.close();
    steadyWrites.close();
    await peer.stop();
    await testbed.down();
    process.off('uncaughtException', onFatal);
  }
}

/**
 * Both orders of the limit for creates and updates, in their own namespaces, then their objects
 * removed again (before the peer starts, so it never sees them). Writes per object are read from
 * the API servers during the phased create.
 */
async function measureLimit(c: LimitClients, writes: Writes, warmUp: boolean) {
  // A fresh testbed is still busy settling (controllers, OpenAPI for new CRDs): one untimed small
  // round first, so the baseline is not measured on colder servers than the peer gets.
  if (warmUp) {
    const n = Math.min(N, 100);
    await limitCreate(c, NS.phased, n, 'pipelined');
    await limitUpdate(c, NS.phased, n, 1, 'pipelined');
    await removeLimitObjects(c);
  }
  const members = CLUSTERS.map((m) => c.members[m]!);
  // Each run ends when the bench's watch sees every copy, as the peer's runs do.
  const measured = async (
    ns: string,
    gen: number,
    go: (observe: () => Promise<void>) => Promise<LimitTiming>,
  ) => {
    const cpu = cpuPhase();
    const timing = await go(() => waitForCopies(members, ns, N, gen));
    return { ...timing, cpu: cpu() };
  };
  const w0 = await writes.snapshot();
  const phasedCreate = await measured(NS.phased, 0, (o) => limitCreate(c, NS.phased, N, 'phased', o));
  const w = between(w0, await writes.snapshot());
  const pipelinedCreate = await measured(NS.pipelined, 0, (o) =>
    limitCreate(c, NS.pipelined, N, 'pipelined', o),
  );
  const phasedUpdate = await measured(NS.phased, 1, (o) => limitUpdate(c, NS.phased, N, 1, 'phased', o));
  const pipelinedUpdate = await measured(NS.pipelined, 1, (o) =>
    limitUpdate(c, NS.pipelined, N, 1, 'pipelined', o),
  );
  await removeLimitObjects(c);
  const create = fastest([phasedCreate, pipelinedCreate]);
  const update = fastest([phasedUpdate, pipelinedUpdate]);
  log(
    `limit: create phased ${(phasedCreate.total / 1000).toFixed(2)} s, pipelined ${(pipelinedCreate.total / 1000).toFixed(2)} s → ${create.order}; ` +
      `update phased ${(phasedUpdate.total / 1000).toFixed(2)} s, pipelined ${(pipelinedUpdate.total / 1000).toFixed(2)} s → ${update.order}`,
  );
  return {
    create,
    update,
    runs: [phasedCreate, pipelinedCreate, phasedUpdate, pipelinedUpdate] satisfies LimitTiming[],
    hostWritesPerObject: totalOf(w.host) / N,
    memberWritesPerObject: totalOf(w.members) / N,
  };
}

async function removeLimitObjects(c: LimitClients): Promise<void> {
  for (const ns of [NS.phased, NS.pipelined]) {
    await deleteAllAndWait(c.host, FEDERATED_CONFIGMAP_REF, ns);
    for (const m of Object.values(c.members)) await deleteAllAndWait(m, CONFIGMAP_REF, ns, MANAGED);
  }
}

async function memory(
  peer: Peer,
  rss: FigureSpec,
  heap: FigureSpec,
  add: (f: FigureSpec, v: number) => void,
): Promise<void> {
  const pid = peer.pid();
  if (pid === undefined) throw new Error(`${peer.name}: no controller pid to read RSS from`);
  add(rss, rssBytes(pid) / MiB);
  const h = await peer.heapBytes?.();
  if (h !== undefined) add(heap, h / MiB);
}

/** Writes counted by the API servers over `ms`. */
async function windowWrites(writes: Writes, ms: number) {
  const a = await writes.snapshot();
  await sleep(ms);
  return between(a, await writes.snapshot());
}

/**
 * Resolves with the moment (performance.now()) the peer became steady: its queues empty (when it
 * exposes them) and no write counted by the API servers for QUIET_MS after it; undefined when it
 * never was within `timeoutMs` (KubeFed writes the status of every KubeFedCluster at each probe).
 */
async function waitQuiet(peer: Peer, writes: Writes, timeoutMs: number): Promise<number | undefined> {
  const deadline = performance.now() + timeoutMs;
  let total = -1;
  let lastActivity = performance.now();
  for (;;) {
    const [h, m] = await writes.snapshot();
    const now = performance.now();
    const t = totalOf(h) + totalOf(m);
    const depth = (await peer.queueDepth?.()) ?? 0;
    if (t !== total || depth > 0) {
      total = t;
      lastActivity = now;
    } else if (now - lastActivity >= QUIET_MS) return lastActivity;
    if (now > deadline) {
      log(`${peer.name}: not steady after ${timeoutMs} ms (queue depth ${depth})`);
      return undefined;
    }
    await sleep(1000);
  }
}

// No replicas: the samples measure the object reaching the members, and 3 × 100 Deployments of one
// pod each would fill the testbed's nodes (110 pods each) before the DNS figure needs a pod.
const deploymentSpec = (name: string) => ({
  replicas: 0,
  selector: { matchLabels: { app: name } },
  template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
});

/**
 * One FederatedDeployment → present in every member, vs. a plain client writing the same Deployment
 * to every member; both observed by the same polling reads.
 */
async function latency(
  kc: Record<string, KubeConfig>,
): Promise<{ fed: number[]; direct: number[]; chain: number[] }> {
  const inEveryMember = (name: string, namespace: string) =>
    Promise.all(
      CLUSTERS.map((c) =>
        waitFor(`${name} in ${c}`, () => tryGetResource(kc[c]!, DEPLOYMENT_REF, name, namespace), {
          intervalMs: 5,
          timeoutMs: 60_000,
        }),
      ),
    );
  const deployment = (name: string, namespace: string) =>
    ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace },
      spec: deploymentSpec(name),
    }) as KubernetesObject;
  const fed: number[] = [];
  const direct: number[] = [];
  // A federation must store the federated object before it can know what to write: this baseline
  // makes that one host write, then the member writes.
  const chain: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    let start = performance.now();
    await Promise.all(
      CLUSTERS.map((c) => createResource(kc[c]!, DEPLOYMENT_REF, deployment(`lat-${i}`, NS.direct))),
    );
    await inEveryMember(`lat-${i}`, NS.direct);
    direct.push(performance.now() - start);
    start = performance.now();
    await createResource(kc[HOST]!, DEPLOYMENT_REF, deployment(`lat-${i}`, NS.chainHost));
    await Promise.all(
      CLUSTERS.map((c) => createResource(kc[c]!, DEPLOYMENT_REF, deployment(`lat-${i}`, NS.chain))),
    );
    await inEveryMember(`lat-${i}`, NS.chain);
    chain.push(performance.now() - start);
    start = performance.now();
    await createResource(kc[HOST]!, FEDERATED_DEPLOYMENT_REF, {
      apiVersion: 'types.kubefed.io/v1beta1',
      kind: 'FederatedDeployment',
      metadata: { name: `lat-${i}`, namespace: NS.fed },
      spec: { template: { spec: deploymentSpec(`lat-${i}`) }, placement: { clusterSelector: {} } },
    } as KubernetesObject);
    await inEveryMember(`lat-${i}`, NS.fed);
    fed.push(performance.now() - start);
  }
  return { fed, direct, chain };
}

/** ServiceDNSRecord → name resolves from every other cluster, vs. the same forward block written by hand. */
async function dns(tb: E2ETestbed, kubeconfig: string): Promise<{ viaPeer: number[]; byHand: number[] }> {
  const host = clusterApi(kubeconfig, HOST).api;
  const dnsOf = (c: string) => tb.status.clusters.find((x) => x.name === c)!.dns;
  const c1 = clusterApi(kubeconfig, 'cluster1').api;
  await apply(host, {
    apiVersion: 'multiclusterdns.kubefed.io/v1alpha1',
    kind: 'Domain',
    metadata: { name: 'fed', namespace: 'kube-federation-system' },
    domain: 'example.org',
  } as KubernetesObject);
  await apply(c1, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dnsbench' } });
  await apply(c1, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'peer', namespace: 'dnsbench' },
    spec: {
      clusterIP: 'None',
      selector: { app: 'peer' },
      ports: [{ port: 80 }],
      publishNotReadyAddresses: true,
    },
  } as KubernetesObject);
  await apply(c1, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'dnsbench', labels: { app: 'peer' } },
    spec: { hostname: 'p', subdomain: 'peer', containers: [{ name: 'c', image: 'nginx' }] },
  } as KubernetesObject);
  await waitFor(
    'pod IP',
    async () =>
      (await read<KubernetesObject & { status?: { podIP?: string } }>(c1, 'v1', 'Pod', 'p', 'dnsbench'))
        ?.status?.podIP,
  );
  const name = 'p.peer.dnsbench.svc.cluster1.local';
  const others = ['cluster0', 'cluster2'];
  const resolved = (want: boolean) =>
    Promise.all(
      others.map((c) =>
        waitFor(
          `${name} ${want ? 'resolving' : 'gone'} from ${c}`,
          async () => (await resolveA(dnsOf(c), name)).length > 0 === want,
          { intervalMs: want ? 50 : 100, timeoutMs: 120_000 },
        ),
      ),
    );
  await apply(host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dnsbench' } });
  const viaPeer: number[] = [];
  const byHand: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await apply(host, {
      apiVersion: 'multiclusterdns.kubefed.io/v1alpha1',
      kind: 'ServiceDNSRecord',
      metadata: { name: 'peer', namespace: 'dnsbench' },
      spec: { domainRef: 'fed' },
    } as KubernetesObject);
    await resolved(true);
    viaPeer.push(performance.now() - t);
    await remove(host, 'multiclusterdns.kubefed.io/v1alpha1', 'ServiceDNSRecord', 'peer', 'dnsbench');
    await resolved(false);
  }
  // Baseline: the block the controller would write, straight into both Corefiles.
  for (let i = 0; i < 3; i++) {
    const originals: Record<string, string> = {};
    const t = performance.now();
    await Promise.all(
      others.map(async (c) => {
        const api = clusterApi(kubeconfig, c).api;
        const cm = (await read(api, 'v1', 'ConfigMap', 'coredns', 'kube-system')) as KubernetesObject & {
          data: { Corefile: string };
        };
        originals[c] = cm.data.Corefile;
        const port = dnsOf(c).split(':')[1];
        await mergePatch(api, cm, {
          data: {
            Corefile: `${cm.data.Corefile}cluster1.local:${port} {\n    bind 127.0.0.1\n    forward . ${dnsOf('cluster1')}\n}\n`,
          },
        });
      }),
    );
    await resolved(true);
    byHand.push(performance.now() - t);
    for (const c of others) {
      const api = clusterApi(kubeconfig, c).api;
      await mergePatch(api, (await read(api, 'v1', 'ConfigMap', 'coredns', 'kube-system'))!, {
        data: { Corefile: originals[c] },
      });
    }
    await resolved(false);
  }
  return { viaPeer, byHand };
}

// Each peer on its own fresh testbed, one after the other (never side by side on 2 cores).
// BENCH_FEDCTL_ARGS adds controller flags after these (e.g. `--kube-api-qps 100 --kube-api-burst 20`).
const peers: Peer[] = peersFromEnv(process.env.BENCH_PEERS, ['--resync', '20']);
const load = startLoad(parseLoad(process.env.BENCH_LOAD));
const started = performance.now();
try {
  for (const p of peers) await benchPeer(p);
} finally {
  await load.stop();
}
const names = peers.map((p) => p.name);
process.stdout.write(
  `make bench: ${N} objects, ${REPEAT} repeat(s), concurrency ${CONCURRENCY}, ${CLUSTERS.length} clusters, ` +
    `${load.processes ? `BENCH_LOAD=${load.processes} spinning process(es), ` : ''}` +
    `${((performance.now() - started) / 60_000).toFixed(1)} min, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n\n`,
);
process.stdout.write(formatTable(tableRows(Object.values(F), results, names)));
process.stdout.write(
  `\nBENCH_JSON ${JSON.stringify({ objects: N, repeat: REPEAT, concurrency: CONCURRENCY, figures: results, extra })}\n`,
);
