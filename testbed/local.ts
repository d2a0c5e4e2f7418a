import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Binaries } from './binaries.ts';
import { apiserverSpec, type ClusterCtx, etcdSpec, kcmSpec, kwokSpec, schedulerSpec } from './components.ts';
import { KubeHttp } from './kube-http.ts';
import { buildKubeconfig, type ClusterCredentials, renderKubeconfig } from './kubeconfig.ts';
import { kwokConfig } from './kwok.ts';
import { httpOk, type Log, launch, StateRecorder, waitFor } from './launch.ts';
import { setUpDns, startCorefileSync } from './local-dns.ts';
import { createNodes, setUpNodeNetworks } from './local-nodes.ts';
import {
  base64File,
  ensurePki,
  ensureServiceAccountKeys,
  ensureServingCert,
  type TestbedPki,
} from './pki.ts';
import { type ProfilePlan, planClusters, planProfile } from './plan.ts';
import { PortAllocator } from './ports.ts';
import { isRunning, stopProcess } from './processes.ts';
import type { ClusterRecord, ProcessRecord, TestbedOptions, TestbedState } from './state.ts';

// The local provider: every cluster runs as processes on 127.0.0.1 — etcd + kube-apiserver +
// kube-controller-manager, and in the full profile also kube-scheduler + kwok + CoreDNS, its fake
// nodes backed by network namespaces (plan.ts: planProfile). Everything it starts or creates is recorded
// in the state file first. Process launching: launch.ts; command lines: components.ts; DNS:
// local-dns.ts; nodes and namespaces: local-nodes.ts.

function credsFor(ctx: ClusterCtx) {
  return { server: ctx.rec.server, ca: ctx.pki.caCert, cert: ctx.pki.adminCert, key: ctx.pki.adminKey };
}

async function clusterCredentials(pki: TestbedPki, c: ClusterRecord): Promise<ClusterCredentials> {
  return {
    name: c.name,
    server: c.server,
    caData: await base64File(pki.caCert),
    certData: await base64File(pki.adminCert),
    keyData: await base64File(pki.adminKey),
  };
}

async function writeClusterKubeconfig(ctx: ClusterCtx): Promise<void> {
  const creds = await clusterCredentials(ctx.pki, ctx.rec);
  await writeFile(ctx.rec.kubeconfig, renderKubeconfig(buildKubeconfig([creds])), { mode: 0o600 });
}

export async function writeMergedKubeconfig(pki: TestbedPki, state: TestbedState): Promise<void> {
  const creds = await Promise.all(state.clusters.map((c) => clusterCredentials(pki, c)));
  await writeFile(state.kubeconfig, renderKubeconfig(buildKubeconfig(creds)), { mode: 0o600 });
}

/** etcd → API server → KCM (all controllers, or the profile's few), scheduler and kwok (full only). */
async function startControlPlane(
  rec: StateRecorder,
  log: Log,
  b: Binaries,
  ports: PortAllocator,
  ctx: ClusterCtx,
  profile: ProfilePlan,
): Promise<void> {
  const c = ctx.rec;
  const t0 = Date.now();
  await launch(rec, log, {
    cluster: c,
    name: 'etcd',
    spec: () => etcdSpec(b, c),
    ready: async () => httpOk(`http://127.0.0.1:${c.ports!.etcdClient}/health`),
    repick: async () => {
      c.ports!.etcdClient = await ports.replace(c.ports!.etcdClient);
      c.ports!.etcdPeer = await ports.replace(c.ports!.etcdPeer);
    },
  });
  log(`${c.name}: etcd ready on 127.0.0.1:${c.ports!.etcdClient}`);
  await launch(rec, log, {
    cluster: c,
    name: 'kube-apiserver',
    spec: () => apiserverSpec(b, ctx),
    ready: async () => {
      ctx.http ??= new KubeHttp(credsFor(ctx));
      const r = await ctx.http.raw('GET', '/readyz', undefined, undefined, 3000);
      return r.status === 200;
    },
    repick: async () => {
      c.ports!.apiserver = await ports.replace(c.ports!.apiserver);
      c.server = `https://127.0.0.1:${c.ports!.apiserver}`;
      ctx.http?.close();
      ctx.http = undefined;
    },
    timeoutMs: 120_000,
  });
  log(`${c.name}: kube-apiserver ready at ${c.server} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  await writeClusterKubeconfig(ctx);
  const kcm = launch(rec, log, {
    cluster: c,
    name: 'kube-controller-manager',
    spec: () => kcmSpec(b, ctx, profile.kcmControllers),
    ready: () => httpOk(`https://127.0.0.1:${c.ports!.controllerManager}/healthz`),
    repick: async () => {
      c.ports!.controllerManager = await ports.replace(c.ports!.controllerManager);
    },
  });
  if (!profile.components.includes('kube-scheduler')) {
    await kcm;
    log(
      `${c.name}: controller-manager (${profile.kcmControllers.join(', ')}) running (${((Date.now() - t0) / 1000).toFixed(1)}s)`,
    );
    return;
  }
  await writeFile(join(c.dir, 'kwok.yaml'), kwokConfig());
  await Promise.all([
    kcm,
    launch(rec, log, {
      cluster: c,
      name: 'kube-scheduler',
      spec: () => schedulerSpec(b, ctx),
      ready: () => httpOk(`https://127.0.0.1:${c.ports!.scheduler}/healthz`),
      repick: async () => {
        c.ports!.scheduler = await ports.replace(c.ports!.scheduler);
      },
    }),
    // kwok serves nothing we can probe; it is ready when its nodes turn Ready (checked later).
    launch(rec, log, { cluster: c, name: 'kwok', spec: () => kwokSpec(b, c), ready: async () => true }),
  ]);
  log(
    `${c.name}: controller-manager, scheduler and kwok running (${((Date.now() - t0) / 1000).toFixed(1)}s)`,
  );
}

export interface LocalUpInput {
  state: TestbedState;
  binaries: Binaries;
  log: Log;
}

/** Brings up every cluster of a fresh state (id, options, paths filled in; clusters empty). */
export async function upLocal({ state, binaries, log }: LocalUpInput): Promise<void> {
  const rec = new StateRecorder(state);
  const opts: TestbedOptions = state.options;
  const pki = await ensurePki(join(state.stateDir, 'pki'));
  const ports = new PortAllocator();
  const plans = planClusters(opts.clusters, opts.clusterDomain);
  const profile = planProfile(opts.profile ?? 'full', { nodes: opts.nodes, netns: opts.netns });
  const ctxs: ClusterCtx[] = [];
  for (const plan of plans) {
    const dir = join(state.stateDir, 'clusters', plan.name);
    await mkdir(join(dir, 'logs'), { recursive: true });
    const p = {
      etcdClient: await ports.take(),
      etcdPeer: await ports.take(),
      apiserver: await ports.take(),
      controllerManager: await ports.take(),
      scheduler: await ports.take(),
      dns: await ports.take(),
    };
    const c: ClusterRecord = {
      name: plan.name,
      index: plan.index,
      context: plan.name,
      server: `https://127.0.0.1:${p.apiserver}`,
      podCIDR: plan.podCIDR,
      serviceCIDR: plan.serviceCIDR,
      domain: plan.domain,
      // A light cluster runs no DNS server: an address here would point at nothing.
      dns: profile.dns ? `127.0.0.1:${p.dns}` : '',
      dir,
      kubeconfig: join(dir, 'kubeconfig'),
      ports: p,
      nodes: [],
      processes: [],
    };
    state.clusters.push(c);
    const serving = await ensureServingCert(pki, plan.name, plan.domain, plan.apiServiceIP);
    const sa = await ensureServiceAccountKeys(pki, plan.name);
    ctxs.push({ plan, rec: c, pki, serving, sa });
  }
  await rec.save();

  const t0 = Date.now();
  try {
    await Promise.all(ctxs.map((ctx) => startControlPlane(rec, log, binaries, ports, ctx, profile)));
    await writeMergedKubeconfig(pki, state);
    log(`control planes up in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    if (profile.nodes > 0) {
      log('creating nodes');
      await Promise.all(
        ctxs.map(async (ctx) => {
          ctx.rec.nodes = await createNodes(ctx, profile.nodes, state.idByte);
        }),
      );
      await rec.save();
    }
    if (profile.netns) await setUpNodeNetworks(rec, log, state, ctxs);
    if (profile.dns) {
      await Promise.all(ctxs.map((ctx) => setUpDns(rec, log, binaries, ports, ctx)));
      await startCorefileSync(rec, log, pki);
    }
    if (profile.nodes > 0) {
      // Pods need their namespace's default ServiceAccount, which KCM creates shortly after start.
      await Promise.all(
        ctxs.map((ctx) =>
          waitFor(`${ctx.rec.name}: default ServiceAccount`, 60_000, async () => {
            const r = await ctx.http!.raw('GET', '/api/v1/namespaces/default/serviceaccounts/default');
            return r.status === 200 ? true : undefined;
          }),
        ),
      );
    }
  } finally {
    for (const ctx of ctxs) ctx.http?.close();
  }
  state.phase = 'ready';
  await rec.save();
}

/** Stops one cluster's API server (its record keeps the command line, pid becomes null). */
export async function stopApiServer(rec: StateRecorder, name: string, hard = false): Promise<void> {
  const proc = apiserverRecord(rec.state, name);
  // Graceful shutdown waits for open watches to drain; a short grace keeps outage tests fast.
  await stopProcess(proc, hard ? 0 : 5_000);
  proc.pid = null;
  proc.startTicks = null;
  await rec.save();
}

/** Starts a stopped API server again with the same flags, port and etcd data; waits for /readyz. */
export async function startApiServer(rec: StateRecorder, name: string, log: Log): Promise<void> {
  const c = rec.state.clusters.find((x) => x.name === name)!;
  const proc = apiserverRecord(rec.state, name);
  if (isRunning(proc)) {
    log(`${name}: kube-apiserver already running (pid ${proc.pid})`);
    return;
  }
  const pkiDir = join(rec.state.stateDir, 'pki');
  const http = new KubeHttp({
    server: c.server,
    ca: join(pkiDir, 'ca.crt'),
    cert: join(pkiDir, 'admin.crt'),
    key: join(pkiDir, 'admin.key'),
  });
  try {
    await launch(rec, log, {
      cluster: c,
      name: 'kube-apiserver',
      spec: () => ({ name: 'kube-apiserver', cmd: proc.cmd, args: proc.args, log: proc.log }),
      ready: async () => (await http.raw('GET', '/readyz', undefined, undefined, 3000)).status === 200,
      timeoutMs: 120_000,
    });
  } finally {
    http.close();
  }
  log(`${name}: kube-apiserver running again at ${c.server}`);
}

function apiserverRecord(state: TestbedState, name: string): ProcessRecord {
  const c = state.clusters.find((x) => x.name === name);
  if (!c)
    throw new Error(
      `no cluster "${name}" in the testbed (have: ${state.clusters.map((x) => x.name).join(', ')})`,
    );
  const proc = c.processes.find((p) => p.name === `${name}/kube-apiserver`);
  if (!proc) throw new Error(`${name}: no kube-apiserver recorded (provider ${state.provider}?)`);
  return proc;
}
