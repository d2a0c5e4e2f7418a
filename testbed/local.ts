import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CROSS_CLUSTER_DNS_LABEL, NETNS_ANNOTATION } from '../src/api/constants.ts';
import type { Binaries } from './binaries.ts';
import { nodeIP, nodeSubnet, parseCidr } from './cidr.ts';
import { renderCorefile } from './corefile.ts';
import { resolveA } from './dns-query.ts';
import { dnsIngressStatus } from './kind.ts';
import { KubeHttp } from './kube-http.ts';
import { buildKubeconfig, type ClusterCredentials, renderKubeconfig } from './kubeconfig.ts';
import { fakeNode, fakeNodeName, kwokArgs, kwokConfig } from './kwok.ts';
import {
  addLocalPodRange,
  addPodRoute,
  createFabric,
  createNodeNetns,
  fabricNetnsName,
  fabricVethName,
  nodeNetnsName,
} from './netns.ts';
import {
  base64File,
  ensurePki,
  ensureServiceAccountKeys,
  ensureServingCert,
  type TestbedPki,
} from './pki.ts';
import { type ClusterPlan, planClusters } from './plan.ts';
import { PortAllocator } from './ports.ts';
import { isRunning, lostPortRace, type StartSpec, startProcess, stopProcess } from './processes.ts';
import {
  type ClusterRecord,
  type NodeRecord,
  type ProcessRecord,
  type TestbedOptions,
  type TestbedState,
  writeState,
} from './state.ts';

// The local provider: every cluster is etcd + kube-apiserver + kube-controller-manager +
// kube-scheduler + kwok + CoreDNS running as processes on 127.0.0.1, its fake nodes backed by
// network namespaces. Everything it starts or creates is recorded in the state file first.

export type Log = (line: string) => void;

const HERE = dirname(fileURLToPath(import.meta.url));
const SYNC_SCRIPT = join(HERE, 'corefile-sync.ts');

/** Serialises state writes (clusters start in parallel and each records its pids at once). */
export class StateRecorder {
  readonly state: TestbedState;
  #chain: Promise<void> = Promise.resolve();
  constructor(state: TestbedState) {
    this.state = state;
  }
  save(): Promise<void> {
    const next = this.#chain.then(() => writeState(this.state));
    this.#chain = next.catch(() => {});
    return next;
  }
}

function setProcess(list: ProcessRecord[], rec: ProcessRecord): void {
  const i = list.findIndex((p) => p.name === rec.name);
  if (i === -1) list.push(rec);
  else list[i] = rec;
}

const fileSize = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

/** Log text written since `offset`, last `lines` lines. */
function logSince(path: string, offset: number, lines = 40): string {
  try {
    const text = readFileSync(path).subarray(offset).toString('utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  }
}

/** GET over HTTP(S) on loopback; true on a 2xx. Used for etcd, KCM and scheduler health. */
export function httpOk(url: string, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { method: 'GET', timeout: timeoutMs, rejectUnauthorized: false },
      (res) => {
        res.resume();
        resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

interface LaunchSpec {
  cluster: ClusterRecord | null;
  name: string;
  spec: () => StartSpec;
  ready: () => Promise<boolean>;
  /** Picks new ports after a lost bind race; absent = no retry. */
  repick?: () => Promise<void>;
  timeoutMs?: number;
}

/**
 * Starts a process, records its pid at once, and waits until `ready`. When it dies because its port
 * was taken in the meantime, picks new ports and tries again (up to 3 times).
 */
export async function launch(rec: StateRecorder, log: Log, l: LaunchSpec): Promise<ProcessRecord> {
  const where = l.cluster ? l.cluster.processes : rec.state.processes;
  const label = l.cluster ? `${l.cluster.name}/${l.name}` : l.name;
  for (let attempt = 1; ; attempt++) {
    const spec = l.spec();
    await mkdir(dirname(spec.log), { recursive: true });
    const offset = fileSize(spec.log);
    const proc = startProcess({ ...spec, name: label });
    setProcess(where, proc);
    await rec.save();
    const deadline = Date.now() + (l.timeoutMs ?? 90_000);
    let retry = false;
    for (;;) {
      if (!isRunning(proc)) {
        const out = logSince(spec.log, offset);
        if (l.repick && attempt < 4 && lostPortRace(out)) {
          log(`${label}: port taken before it could bind; retrying with new ports`);
          await l.repick();
          retry = true;
          break;
        }
        throw new Error(`${label} exited while starting (log ${spec.log}):\n${out}`);
      }
      if (await l.ready().catch(() => false)) return proc;
      if (Date.now() > deadline) {
        throw new Error(
          `${label} not ready after ${(l.timeoutMs ?? 90_000) / 1000}s (log ${spec.log}):\n${logSince(spec.log, offset)}`,
        );
      }
      await sleep(200);
    }
    if (!retry) break;
  }
  throw new Error(`${label}: could not start`);
}

async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs / 1000}s waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`,
      );
    }
    await sleep(250);
  }
}

interface ClusterCtx {
  plan: ClusterPlan;
  rec: ClusterRecord;
  pki: TestbedPki;
  serving: { cert: string; key: string };
  sa: { privateKey: string; publicKey: string };
  http?: KubeHttp;
}

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

export function etcdSpec(b: Binaries, c: ClusterRecord): StartSpec {
  const p = c.ports!;
  const client = `http://127.0.0.1:${p.etcdClient}`;
  const peer = `http://127.0.0.1:${p.etcdPeer}`;
  return {
    name: 'etcd',
    cmd: b.etcd,
    args: [
      `--name=${c.name}`,
      `--data-dir=${join(c.dir, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=${c.name}=${peer}`,
      '--initial-cluster-state=new',
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    log: join(c.dir, 'logs', 'etcd.log'),
  };
}

export function apiserverSpec(b: Binaries, ctx: ClusterCtx): StartSpec {
  const c = ctx.rec;
  const p = c.ports!;
  return {
    name: 'kube-apiserver',
    cmd: b.kubeApiserver,
    args: [
      `--etcd-servers=http://127.0.0.1:${p.etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${p.apiserver}`,
      `--tls-cert-file=${ctx.serving.cert}`,
      `--tls-private-key-file=${ctx.serving.key}`,
      `--client-ca-file=${ctx.pki.caCert}`,
      // Request-header authentication for aggregated API servers: only the front-proxy identity.
      `--requestheader-client-ca-file=${ctx.pki.caCert}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${ctx.pki.frontProxyCert}`,
      `--proxy-client-key-file=${ctx.pki.frontProxyKey}`,
      `--service-account-issuer=https://kubernetes.default.svc.${c.domain}`,
      `--service-account-key-file=${ctx.sa.publicKey}`,
      `--service-account-signing-key-file=${ctx.sa.privateKey}`,
      `--service-cluster-ip-range=${c.serviceCIDR}`,
      '--authorization-mode=Node,RBAC',
      // The `kubernetes` Service cannot list 127.0.0.1 as an endpoint (loopback is invalid there).
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      '--profiling=false',
      '--event-ttl=30m',
    ],
    log: join(c.dir, 'logs', 'kube-apiserver.log'),
  };
}

function kcmSpec(b: Binaries, ctx: ClusterCtx): StartSpec {
  const c = ctx.rec;
  return {
    name: 'kube-controller-manager',
    cmd: b.kubeControllerManager,
    args: [
      `--kubeconfig=${c.kubeconfig}`,
      `--authentication-kubeconfig=${c.kubeconfig}`,
      `--authorization-kubeconfig=${c.kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${c.ports!.controllerManager}`,
      '--leader-elect=false',
      '--controllers=*',
      `--cluster-name=${c.name}`,
      '--allocate-node-cidrs=true',
      `--cluster-cidr=${c.podCIDR}`,
      '--node-cidr-mask-size=24',
      `--service-cluster-ip-range=${c.serviceCIDR}`,
      `--service-account-private-key-file=${ctx.sa.privateKey}`,
      `--root-ca-file=${ctx.pki.caCert}`,
      `--cluster-signing-cert-file=${ctx.pki.caCert}`,
      `--cluster-signing-key-file=${ctx.pki.caKey}`,
      '--profiling=false',
    ],
    log: join(c.dir, 'logs', 'kube-controller-manager.log'),
  };
}

function schedulerSpec(b: Binaries, ctx: ClusterCtx): StartSpec {
  const c = ctx.rec;
  return {
    name: 'kube-scheduler',
    cmd: b.kubeScheduler,
    args: [
      `--kubeconfig=${c.kubeconfig}`,
      `--authentication-kubeconfig=${c.kubeconfig}`,
      `--authorization-kubeconfig=${c.kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${c.ports!.scheduler}`,
      '--leader-elect=false',
      '--profiling=false',
    ],
    log: join(c.dir, 'logs', 'kube-scheduler.log'),
  };
}

function kwokSpec(b: Binaries, c: ClusterRecord): StartSpec {
  return {
    name: 'kwok',
    cmd: b.kwok,
    args: kwokArgs(c.kubeconfig, join(c.dir, 'kwok.yaml'), c.podCIDR),
    log: join(c.dir, 'logs', 'kwok.log'),
    // kwok looks for ~/.kwok; keep it inside the cluster directory.
    env: { HOME: c.dir },
  };
}

function corednsSpec(b: Binaries, c: ClusterRecord): StartSpec {
  return {
    name: 'coredns',
    cmd: b.coredns,
    args: ['-conf', join(c.dir, 'coredns', 'Corefile'), '-dns.port', String(c.ports!.dns)],
    log: join(c.dir, 'logs', 'coredns.log'),
    cwd: join(c.dir, 'coredns'),
  };
}

const corefileFor = (c: ClusterRecord): string =>
  renderCorefile({ domain: c.domain, port: c.ports!.dns, kubeconfig: c.kubeconfig, context: c.context });

async function writeClusterKubeconfig(ctx: ClusterCtx): Promise<void> {
  const creds = await clusterCredentials(ctx.pki, ctx.rec);
  await writeFile(ctx.rec.kubeconfig, renderKubeconfig(buildKubeconfig([creds])), { mode: 0o600 });
}

export async function writeMergedKubeconfig(pki: TestbedPki, state: TestbedState): Promise<void> {
  const creds = await Promise.all(state.clusters.map((c) => clusterCredentials(pki, c)));
  await writeFile(state.kubeconfig, renderKubeconfig(buildKubeconfig(creds)), { mode: 0o600 });
}

/** etcd → API server → KCM, scheduler, kwok, for one cluster. */
async function startControlPlane(
  rec: StateRecorder,
  log: Log,
  b: Binaries,
  ports: PortAllocator,
  ctx: ClusterCtx,
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
  await writeFile(join(c.dir, 'kwok.yaml'), kwokConfig());
  await Promise.all([
    launch(rec, log, {
      cluster: c,
      name: 'kube-controller-manager',
      spec: () => kcmSpec(b, ctx),
      ready: () => httpOk(`https://127.0.0.1:${c.ports!.controllerManager}/healthz`),
      repick: async () => {
        c.ports!.controllerManager = await ports.replace(c.ports!.controllerManager);
      },
    }),
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

interface NodeView {
  spec?: { podCIDR?: string };
  status?: {
    addresses?: { type: string; address: string }[];
    conditions?: { type: string; status: string }[];
  };
}

/** Creates the fake nodes, waits until KCM gave each a podCIDR and kwok made it Ready. */
async function createNodes(ctx: ClusterCtx, nodes: number, idByte: number): Promise<NodeRecord[]> {
  const http = ctx.http!;
  const c = ctx.rec;
  const out: NodeRecord[] = [];
  for (let j = 0; j < nodes; j++) {
    const name = fakeNodeName(c.name, j);
    const ip = nodeIP(idByte, c.index, j, nodes);
    await http.create('/api/v1/nodes', fakeNode(ctx.plan, j, ip));
    // Some API server versions drop status on create; make sure the address is there.
    const got = (await http.get<NodeView>(`/api/v1/nodes/${name}`)).body;
    if (!got.status?.addresses?.some((a) => a.type === 'InternalIP' && a.address === ip)) {
      await http.mergePatch(`/api/v1/nodes/${name}/status`, {
        status: {
          addresses: [
            { type: 'InternalIP', address: ip },
            { type: 'Hostname', address: name },
          ],
        },
      });
    }
    out.push({ name, ip, podCIDR: '', netns: null });
  }
  for (const n of out) {
    n.podCIDR = await waitFor(`${c.name}: node ${n.name} Ready with a podCIDR`, 60_000, async () => {
      const node = (await http.get<NodeView>(`/api/v1/nodes/${n.name}`)).body;
      const ready = node.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
      const ipOk = node.status?.addresses?.some((a) => a.type === 'InternalIP' && a.address === n.ip);
      return ready && ipOk && node.spec?.podCIDR ? node.spec.podCIDR : undefined;
    });
  }
  return out;
}

async function setUpDns(rec: StateRecorder, log: Log, b: Binaries, ports: PortAllocator, ctx: ClusterCtx) {
  const c = ctx.rec;
  const http = ctx.http!;
  const corefilePath = join(c.dir, 'coredns', 'Corefile');
  await mkdir(dirname(corefilePath), { recursive: true });
  const writeCorefile = async () => {
    const corefile = corefileFor(c);
    await writeFile(corefilePath, corefile);
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      data: { Corefile: corefile },
    };
    await http.create('/api/v1/namespaces/kube-system/configmaps', cm);
    await http.mergePatch('/api/v1/namespaces/kube-system/configmaps/coredns', {
      data: { Corefile: corefile },
    });
  };
  await writeCorefile();
  // The in-cluster DNS Service kubeadm creates (no endpoints here: CoreDNS runs on the host).
  await http.create('/api/v1/namespaces/kube-system/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' },
    },
    spec: {
      clusterIP: ctx.plan.dnsServiceIP,
      selector: { 'k8s-app': 'kube-dns' },
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
      ],
    },
  });
  await launch(rec, log, {
    cluster: c,
    name: 'coredns',
    spec: () => corednsSpec(b, c),
    ready: async () => {
      const ips = await resolveA(`127.0.0.1:${c.ports!.dns}`, `kubernetes.default.svc.${c.domain}`, {
        timeoutMs: 500,
        retries: 0,
      });
      return ips.includes(ctx.plan.apiServiceIP);
    },
    repick: async () => {
      c.ports!.dns = await ports.replace(c.ports!.dns);
      c.dns = `127.0.0.1:${c.ports!.dns}`;
      await writeCorefile();
    },
  });
  // How fedctl learns this cluster's DNS address: a labelled LoadBalancer Service whose ingress we
  // set by hand (nothing else here would).
  await http.create('/api/v1/namespaces/kube-system/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'cross-cluster-dns',
      namespace: 'kube-system',
      labels: { [CROSS_CLUSTER_DNS_LABEL]: 'true' },
    },
    spec: {
      type: 'LoadBalancer',
      allocateLoadBalancerNodePorts: false,
      ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }],
    },
  });
  await http.mergePatch(
    '/api/v1/namespaces/kube-system/services/cross-cluster-dns/status',
    dnsIngressStatus('127.0.0.1', c.ports!.dns),
  );
  log(`${c.name}: CoreDNS answering on ${c.dns} for ${c.domain}`);
}

async function startCorefileSync(rec: StateRecorder, log: Log, pki: TestbedPki): Promise<void> {
  const state = rec.state;
  const cfgPath = join(state.stateDir, 'corefile-sync.json');
  await writeFile(
    cfgPath,
    JSON.stringify(
      {
        intervalMs: 1000,
        clusters: state.clusters.map((c) => ({
          name: c.name,
          server: c.server,
          ca: pki.caCert,
          cert: pki.adminCert,
          key: pki.adminKey,
          corefile: join(c.dir, 'coredns', 'Corefile'),
        })),
      },
      null,
      2,
    ),
  );
  const logPath = join(state.stateDir, 'logs', 'corefile-sync.log');
  await launch(rec, log, {
    cluster: null,
    name: 'corefile-sync',
    spec: () => ({
      name: 'corefile-sync',
      cmd: process.execPath,
      args: [SYNC_SCRIPT, cfgPath],
      log: logPath,
    }),
    ready: async () => existsSync(logPath) && /syncing /.test(readFileSync(logPath, 'utf8')),
    timeoutMs: 30_000,
  });
}

async function setUpNetns(rec: StateRecorder, state: TestbedState): Promise<void> {
  const fabric = fabricNetnsName(state.id);
  const record = async (ns: string) => {
    state.netns.push(ns);
    await rec.save();
  };
  await createFabric(fabric, async (ns) => {
    state.fabricNetns = ns;
    await record(ns);
  });
  const prefix = parseCidr(nodeSubnet(state.idByte)).prefix;
  for (const c of state.clusters) {
    for (const [j, n] of c.nodes.entries()) {
      const ns = nodeNetnsName(state.id, c.index, j);
      await createNodeNetns(
        { fabric, netns: ns, veth: fabricVethName(c.index, j), ip: n.ip, prefix },
        record,
      );
      n.netns = ns;
    }
  }
  await rec.save();
}

/** Pod ranges: local in their own node; routed via the owning node from the cluster's other nodes. */
async function addPodRoutes(state: TestbedState): Promise<void> {
  for (const c of state.clusters) {
    for (const n of c.nodes) {
      if (!n.netns) continue;
      await addLocalPodRange(n.netns, n.podCIDR);
      for (const other of c.nodes) {
        if (other !== n) await addPodRoute(n.netns, other.podCIDR, other.ip);
      }
    }
  }
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
      dns: `127.0.0.1:${p.dns}`,
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
    await Promise.all(ctxs.map((ctx) => startControlPlane(rec, log, binaries, ports, ctx)));
    await writeMergedKubeconfig(pki, state);
    log(`control planes up in ${((Date.now() - t0) / 1000).toFixed(1)}s; creating nodes`);
    await Promise.all(
      ctxs.map(async (ctx) => {
        ctx.rec.nodes = await createNodes(ctx, opts.nodes, state.idByte);
      }),
    );
    await rec.save();
    if (opts.netns) {
      await setUpNetns(rec, state);
      await addPodRoutes(state);
      // `fedctl routes --via netns` finds each node's namespace from this annotation.
      await Promise.all(
        ctxs.flatMap((ctx) =>
          ctx.rec.nodes.map((n) =>
            ctx.http!.mergePatch(`/api/v1/nodes/${n.name}`, {
              metadata: { annotations: { [NETNS_ANNOTATION]: n.netns } },
            }),
          ),
        ),
      );
      log(`network namespaces ready (fabric ${state.fabricNetns}, nodes on ${nodeSubnet(state.idByte)})`);
    }
    await Promise.all(ctxs.map((ctx) => setUpDns(rec, log, binaries, ports, ctx)));
    await startCorefileSync(rec, log, pki);
    // Pods need their namespace's default ServiceAccount, which KCM creates shortly after start.
    await Promise.all(
      ctxs.map((ctx) =>
        waitFor(`${ctx.rec.name}: default ServiceAccount`, 60_000, async () => {
          const r = await ctx.http!.raw('GET', '/api/v1/namespaces/default/serviceaccounts/default');
          return r.status === 200 ? true : undefined;
        }),
      ),
    );
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

/** Takes <dir>/lock for the duration of a command; a lock left by a dead process is taken over. */
export async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dir, { recursive: true });
  const lock = join(dir, 'lock');
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        const holder = existsSync(lock) ? readFileSync(lock, 'utf8').trim() : '?';
        throw new Error(
          `another testbed command (pid ${holder}) is working on ${dir}; wait for it or remove ${lock}`,
        );
      }
      const holder = Number(readFileSync(lock, 'utf8').trim());
      let alive = false;
      try {
        if (holder > 0) {
          process.kill(holder, 0);
          alive = true;
        }
      } catch {
        alive = false;
      }
      if (alive && holder !== process.pid) {
        throw new Error(
          `another testbed command (pid ${holder}) is working on ${dir}; wait for it or remove ${lock}`,
        );
      }
      await rm(lock, { force: true });
    }
  }
  try {
    return await fn();
  } finally {
    if (existsSync(lock)) await rm(lock, { force: true });
  }
}
