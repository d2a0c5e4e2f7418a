import { join } from 'node:path';
import type { Binaries } from './binaries.ts';
import type { KubeHttp } from './kube-http.ts';
import { kwokArgs } from './kwok.ts';
import type { TestbedPki } from './pki.ts';
import type { ClusterPlan } from './plan.ts';
import type { StartSpec } from './processes.ts';
import type { ClusterRecord } from './state.ts';

// Command lines of a local cluster's components (etcd, kube-apiserver, controller-manager,
// scheduler, kwok, CoreDNS), all bound to 127.0.0.1 on the ports recorded for the cluster.

export interface ClusterCtx {
  plan: ClusterPlan;
  rec: ClusterRecord;
  pki: TestbedPki;
  serving: { cert: string; key: string };
  sa: { privateKey: string; publicKey: string };
  http?: KubeHttp;
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
      `--requestheader-client-ca-file=${ctx.pki.frontProxyCaCert}`,
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
      // FEDCTL_TESTBED_PROFILING=1 serves /debug/pprof (where an API server's CPU goes in a benchmark).
      `--profiling=${process.env.FEDCTL_TESTBED_PROFILING === '1'}`,
      '--event-ttl=30m',
    ],
    log: join(c.dir, 'logs', 'kube-apiserver.log'),
  };
}

export function kcmSpec(b: Binaries, ctx: ClusterCtx, controllers: readonly string[]): StartSpec {
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
      `--controllers=${controllers.join(',')}`,
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

export function schedulerSpec(b: Binaries, ctx: ClusterCtx): StartSpec {
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

export function kwokSpec(b: Binaries, c: ClusterRecord): StartSpec {
  return {
    name: 'kwok',
    cmd: b.kwok,
    args: kwokArgs(c.kubeconfig, join(c.dir, 'kwok.yaml'), c.podCIDR),
    log: join(c.dir, 'logs', 'kwok.log'),
    // kwok looks for ~/.kwok; keep it inside the cluster directory.
    env: { HOME: c.dir },
  };
}

export function corednsSpec(b: Binaries, c: ClusterRecord): StartSpec {
  return {
    name: 'coredns',
    cmd: b.coredns,
    args: ['-conf', join(c.dir, 'coredns', 'Corefile'), '-dns.port', String(c.ports!.dns)],
    log: join(c.dir, 'logs', 'coredns.log'),
    cwd: join(c.dir, 'coredns'),
  };
}
