// The three ways to install fedctl, each used as a user would, against one real testbed host:
//   the npm package   npm pack → npm install --global into a temporary prefix → the installed CLI
//   the Helm chart    helm lint, helm template, the rendered manifests validated by the API server,
//                     helm install with the Deployment scaled to 0 (nothing to pull)
//   the image         deploy/image.sh (OCI archive), unpacked and run with chroot: no runtime works here
// Run with `make test-install` (installs buildah and mmdebstrap, builds Helm); not part of `make e2e`.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadKubeConfig } from '../../src/kube/clients.ts';
import { getResource } from '../../src/kube/resources.ts';
import { kubeRequest } from '../../src/kube/transport.ts';
import { dryRunCreate } from '../../testbed/harness/dry-run.ts';
import { readManifests } from '../../testbed/harness/kube.ts';
import { type E2ETestbed, startTestbed } from '../../testbed/harness/testbed.ts';
import { waitFor } from '../../testbed/harness/wait.ts';
import { probeFreePort } from '../../testbed/ports.ts';
import { type ImageConfig, imageCommand, runInRootfs, spawnInRootfs, unpackOciArchive } from './oci.ts';
import { type Installed, packAndInstall, projectNodePath, REPO } from './pack.ts';

const NS = 'kube-federation-system';
const CHART = join(REPO, 'charts', 'fedctl');
const HOST = 'cluster0';

let tb: E2ETestbed;
let work: string;
let kubeconfig: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'fedctl-install-'));
  tb = await startTestbed({ clusters: 1, stateDir: join(work, 'testbed') });
  kubeconfig = tb.status.kubeconfig;
}, 600_000);

afterAll(async () => {
  await tb?.down();
  if (work) rmSync(work, { recursive: true, force: true });
}, 120_000);

const hostKc = () => loadKubeConfig({ kubeconfig, context: HOST });

describe('the npm package', () => {
  let pkg: Installed;

  beforeAll(async () => {
    pkg = await packAndInstall(join(work, 'npm'));
    process.stderr.write(
      `[install] npm pack ${pkg.packSeconds.toFixed(1)} s, npm install --global ${pkg.installSeconds.toFixed(1)} s\n`,
    );
  }, 900_000);

  const installed = (args: string[]) =>
    execa(pkg.bin, args, { env: { PATH: projectNodePath() }, extendEnv: false, reject: false });

  it('ships the compiled bin, bundle, declarations and CRDs, and no sources or tests', () => {
    const paths = pkg.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'package.json',
        'bin/fedctl.js',
        'dist/bundle/fedctl.js',
        'dist/cli/index.js',
        'dist/cli/index.d.ts',
        'dist/api/types.d.ts',
      ]),
    );
    expect(paths.filter((p) => !/^(package\.json|README\.md|LICENSE|bin\/|dist\/|crds\/)/.test(p))).toEqual(
      [],
    );
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
    expect(paths.filter((p) => p.includes('.test.'))).toEqual([]);
  });

  it('runs `fedctl --help` from the install, with nothing on stderr', async () => {
    const r = await installed(['--help']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Usage: fedctl \[options\] \[command\]/);
    expect(r.stdout).toContain('controller [options]');
  });

  it('runs `fedctl controller` from the install without loading @kubernetes/client-node (join does)', async () => {
    // A resolve hook refuses every module whose URL names client-node: in the bundle its code lives in
    // the chunk of src/kube/client-node-bridge.ts, which only join/unjoin/enable load.
    const hook = `import{registerHooks}from'node:module';registerHooks({resolve(s,c,n){const r=n(s,c);if(/client-node/.test(r.url))throw new Error('refused '+r.url);return r}})`;
    const withHook = (args: string[]) =>
      execa(pkg.bin, args, {
        env: {
          PATH: projectNodePath(),
          NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(hook)}`,
        },
        extendEnv: false,
        reject: false,
      });
    // The controller's action loads all of its modules, then stops at the missing kubeconfig.
    const controller = await withHook(['controller', '--kubeconfig', join(work, 'no-such-kubeconfig')]);
    expect(controller.stderr).toContain('cannot load kubeconfig');
    expect(controller.stderr).not.toContain('refused');
    expect(controller.exitCode).toBe(2);
    const join_ = await withHook([
      'join',
      HOST,
      '--cluster-context',
      HOST,
      '--host-cluster-context',
      HOST,
      '--kubeconfig',
      kubeconfig,
      '--dry-run',
    ]);
    expect(join_.stderr).toMatch(/refused .*client-node-bridge/);
  });

  it('runs `fedctl version` against the testbed host from the install', async () => {
    const r = await installed([
      'version',
      '--kubeconfig',
      kubeconfig,
      '--host-cluster-context',
      HOST,
      '-o',
      'json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      fedctl: '0.1.0',
      host: { context: HOST, server: tb.status.clusters[0]!.server, kubernetesVersion: 'v1.36.3' },
    });
  });

  it('says which Node it needs when started with an older one, in one line, exit 1', async () => {
    // The bin's shebang is `env node`: a PATH whose first node is too old must get a clear message.
    const oldNode = join(work, 'old-node');
    mkdirSync(oldNode, { recursive: true });
    const fake = join(oldNode, 'node');
    // A real Node whose reported version is 20.0.0: the check reads process.versions.node only.
    const script = `#!/bin/sh\nexec "${process.execPath}" --import 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"20.0.0"})' "$@"\n`;
    execFileSync('sh', ['-c', `printf '%s' "$1" > "$2"`, 'sh', script, fake]);
    chmodSync(fake, 0o755);
    const r = await execa(pkg.bin, ['--help'], {
      env: { PATH: `${oldNode}:/usr/bin:/bin` },
      extendEnv: false,
      reject: false,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^fedctl needs Node >= 22\.19 \(found v20\.0\.0 at /);
  });

  it('`npx fedctl` in the checkout prints no npm warnings, even with an empty npm cache', async () => {
    // The first `npx fedctl` in a checkout links the checkout into the npx cache (its package.json
    // has a `fedctl` bin), and npm checked `engines` against the Node running npm, not the one
    // running fedctl: the warnings came from that install. A fresh cache forces it every time.
    // As a user's shell runs it: npm on the machine's Node (20 here), no npm_* variables of the npm
    // that started this test, no node_modules/.bin on PATH.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    env.PATH = (process.env.PATH ?? '')
      .split(delimiter)
      .filter((d) => !d.includes('node_modules') && d !== dirname(process.execPath))
      .join(delimiter);
    env.npm_config_cache = join(work, 'npm-cache');
    env.npm_config_update_notifier = 'false';
    const r = await execa('npx', ['fedctl', 'version', '--client'], {
      cwd: REPO,
      env,
      extendEnv: false,
      reject: false,
    });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^COMPONENT\s+VERSION\nfedctl\s+v0\.1\.0$/);
  });
});

// --- Helm -------------------------------------------------------------------------------------

let helmBin: string;
const helm = (args: string[]) =>
  execa(helmBin, args, {
    reject: false,
    env: {
      HELM_CACHE_HOME: join(work, 'helm', 'cache'),
      HELM_CONFIG_HOME: join(work, 'helm', 'config'),
      HELM_DATA_HOME: join(work, 'helm', 'data'),
    },
  });

async function render(args: string[] = []): Promise<KubernetesObject[]> {
  const r = await helm(['template', 'fedctl', CHART, '--namespace', NS, ...args]);
  if (r.exitCode !== 0) throw new Error(`helm template ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJSON() as KubernetesObject | null)
    .filter((d): d is KubernetesObject => d !== null);
}

type Deployment = KubernetesObject & {
  spec: {
    replicas: number;
    template: {
      spec: {
        serviceAccountName: string;
        containers: {
          image: string;
          args: string[];
          ports: { containerPort: number }[];
          resources: unknown;
          readinessProbe?: unknown;
          livenessProbe?: unknown;
        }[];
      };
    };
  };
};
const deploymentOf = (docs: KubernetesObject[]) => docs.find((d) => d.kind === 'Deployment') as Deployment;

describe('the Helm chart', () => {
  beforeAll(async () => {
    const r = await execa('bash', [join(REPO, 'deploy', 'build-helm.sh')], { reject: false });
    if (r.exitCode !== 0) throw new Error(`deploy/build-helm.sh exited ${r.exitCode}: ${r.stderr}`);
    helmBin = r.stdout.trim().split('\n').at(-1)!;
  }, 1_800_000);

  it('passes helm lint --strict', async () => {
    const r = await helm(['lint', '--strict', CHART]);
    expect(r.stdout + r.stderr).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.exitCode).toBe(0);
  });

  it('renders the CRDs of crds/, RBAC, the leader-elected Deployment and the metrics Service', async () => {
    const docs = await render(['--include-crds']);
    const crdDir = join(REPO, 'crds');
    const crds = readdirSync(crdDir)
      .sort()
      .flatMap((f) => readManifests(join(crdDir, f)));
    expect(docs.filter((d) => d.kind === 'CustomResourceDefinition')).toEqual(crds);
    expect(
      docs.filter((d) => d.kind !== 'CustomResourceDefinition').map((d) => `${d.kind}/${d.metadata?.name}`),
    ).toEqual([
      'ServiceAccount/fedctl',
      'ClusterRole/fedctl',
      'ClusterRoleBinding/fedctl',
      'Service/fedctl-metrics',
      'Deployment/fedctl',
    ]);
    const d = deploymentOf(docs);
    expect(d.metadata?.namespace).toBe(NS);
    expect(d.spec.replicas).toBe(2);
    const [c] = d.spec.template.spec.containers;
    expect(c!.image).toBe('fedctl:0.1.0');
    expect(c!.args).toEqual([
      'controller',
      `--kubefed-namespace=${NS}`,
      '--metrics-address=0.0.0.0',
      '--metrics-port=8080',
    ]);
    // A standby replica serves nothing until it leads: a liveness probe would restart it forever.
    expect(c!.readinessProbe).toBeDefined();
    expect(c!.livenessProbe).toBeUndefined();
  });

  it('takes image, replicas, resources, metrics port and extra args from values', async () => {
    const docs = await render([
      '--set',
      'image.repository=registry.example/fedctl,image.tag=9.9.9,replicas=3,metrics.port=9090',
      '--set-json',
      'extraArgs=["--workers","16"]',
      '--set-json',
      'resources={"requests":{"cpu":"1","memory":"1Gi"}}',
    ]);
    const d = deploymentOf(docs);
    const [c] = d.spec.template.spec.containers;
    expect(d.spec.replicas).toBe(3);
    expect(c!.image).toBe('registry.example/fedctl:9.9.9');
    expect(c!.args).toEqual([
      'controller',
      `--kubefed-namespace=${NS}`,
      '--metrics-address=0.0.0.0',
      '--metrics-port=9090',
      '--workers',
      '16',
    ]);
    expect(c!.ports).toEqual([{ name: 'metrics', containerPort: 9090 }]);
    // Helm merges maps with the defaults: the default memory limit stays unless set to null.
    expect(c!.resources).toEqual({ requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '1Gi' } });
    const svc = docs.find((x) => x.kind === 'Service') as KubernetesObject & {
      spec: { ports: { port: number }[] };
    };
    expect(svc.spec.ports[0]!.port).toBe(9090);
  });

  it('refuses several replicas without leader election, saying why', async () => {
    const r = await helm(['template', 'fedctl', CHART, '--set', 'replicas=2,leaderElection=false']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('replicas > 1 needs leaderElection: true');
    const single = deploymentOf(await render(['--set', 'replicas=1,leaderElection=false']));
    expect(single.spec.template.spec.containers[0]!.args).toContain('--no-leader-elect');
  });

  it('renders manifests the testbed host accepts (server-side dry run, strict field validation)', async () => {
    await dryRunCreate(hostKc(), await render(['--include-crds']), [NS]);
  });

  it('installs with helm install on the testbed (Deployment at 0 replicas), with working RBAC', async () => {
    const base = ['--kubeconfig', kubeconfig, '--kube-context', HOST, '--namespace', NS];
    const r = await helm([
      'install',
      'fedctl',
      CHART,
      ...base,
      '--create-namespace',
      '--set',
      'replicas=0',
      '--wait',
      '--timeout',
      '3m',
    ]);
    // Helm notes at INFO level that crds/ is a symlink (to the repository's crds/): not a failure.
    expect(r.stderr).not.toMatch(/level=(WARN|ERROR)|^Error/m);
    expect(r.exitCode, r.stderr).toBe(0);
    try {
      const kc = hostKc();
      const crd = await getResource<
        KubernetesObject & { status: { conditions: { type: string; status: string }[] } }
      >(
        kc,
        {
          group: 'apiextensions.k8s.io',
          version: 'v1',
          kind: 'CustomResourceDefinition',
          plural: 'customresourcedefinitions',
          namespaced: false,
        },
        'kubefedclusters.core.kubefed.io',
      );
      expect(crd.status.conditions).toContainEqual(
        expect.objectContaining({ type: 'Established', status: 'True' }),
      );
      const dep = await getResource<Deployment>(
        kc,
        { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
        'fedctl',
        NS,
      );
      expect(dep.spec.replicas).toBe(0);
      // What the controller's first steps need: the leader-election Lease and the CRDs.
      for (const attrs of [
        { group: 'coordination.k8s.io', resource: 'leases', verb: 'update', namespace: NS },
        { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', verb: 'create' },
        { group: 'core.kubefed.io', resource: 'kubefedclusters', verb: 'watch', namespace: NS },
      ]) {
        const review = await kubeRequest<{ status: { allowed: boolean } }>(kc, {
          method: 'POST',
          path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: { user: `system:serviceaccount:${NS}:fedctl`, resourceAttributes: attrs },
          },
        });
        expect({ ...attrs, allowed: review.status.allowed }).toEqual({ ...attrs, allowed: true });
      }
    } finally {
      const u = await helm(['uninstall', 'fedctl', ...base, '--wait']);
      expect(u.exitCode, u.stderr).toBe(0);
    }
  });
});

// --- the image --------------------------------------------------------------------------------

describe('the container image', () => {
  let rootfs: string;
  let config: ImageConfig;
  let controller: ChildProcess | undefined;

  beforeAll(async () => {
    const archive = join(work, 'image', 'fedctl.tar');
    // The npm package's tarball when its tests packed one; otherwise image.sh packs the checkout.
    const npmDir = join(work, 'npm');
    const tgz = existsSync(npmDir) ? readdirSync(npmDir).find((f) => f.endsWith('.tgz')) : undefined;
    const t0 = performance.now();
    const r = await execa(
      'bash',
      [join(REPO, 'deploy', 'image.sh'), archive, ...(tgz ? [join(work, 'npm', tgz)] : [])],
      {
        reject: false,
        timeout: 1_200_000,
      },
    );
    if (r.exitCode !== 0) throw new Error(`deploy/image.sh exited ${r.exitCode}:\n${r.stderr}`);
    process.stderr.write(`[install] deploy/image.sh ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    ({ rootfs, config } = await unpackOciArchive(archive, join(work, 'image')));
  }, 1_500_000);

  afterAll(async () => {
    if (controller?.exitCode === null && controller.signalCode === null) {
      const exited = new Promise((r) => controller!.once('exit', r));
      controller.kill('SIGKILL');
      await exited;
    }
  });

  it('is configured to run the controller as an unprivileged user', () => {
    expect(config.Entrypoint).toEqual([
      '/usr/local/bin/node',
      '/usr/local/lib/node_modules/fedctl/bin/fedctl.js',
    ]);
    expect(config.Cmd).toEqual(['controller']);
    expect(config.User).toBe('65532:65532');
    expect(config.Env).toContain('FEDCTL_COREDNS=/usr/local/bin/coredns');
  });

  it('runs `fedctl version` from its own filesystem (chroot)', async () => {
    const { argv, env } = imageCommand(config, ['version', '--client']);
    const r = await runInRootfs(rootfs, config.User!, argv, env);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^COMPONENT\s+VERSION\nfedctl\s+v0\.1\.0\n$/);
  });

  it('runs `fedctl controller` against the testbed host until /readyz answers, and stops on SIGTERM', async () => {
    // The testbed's kubeconfig carries its certificates inline: a copy inside the image is enough.
    // The chroot shares the host's network namespace, so the API server on 127.0.0.1 is reachable.
    copyFileSync(kubeconfig, join(rootfs, 'tmp', 'kubeconfig'));
    chmodSync(join(rootfs, 'tmp', 'kubeconfig'), 0o644);
    const port = await probeFreePort();
    const { argv, env } = imageCommand(config, [
      '--kubeconfig',
      '/tmp/kubeconfig',
      '--host-cluster-context',
      HOST,
      'controller',
      '--metrics-port',
      String(port),
    ]);
    const child = spawnInRootfs(rootfs, config.User!, argv, env);
    controller = child;
    let log = '';
    child.stdout?.on('data', (d) => {
      log += d;
    });
    child.stderr?.on('data', (d) => {
      log += d;
    });
    try {
      const body = await waitFor(
        '/readyz of the controller started from the image',
        async () => {
          if (child.exitCode !== null)
            throw new Error(`controller exited ${child.exitCode}: ${log.slice(-2000)}`);
          const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
          return res?.status === 200 ? await res.text() : undefined;
        },
        { timeoutMs: 180_000, intervalMs: 500 },
      );
      expect(body.length).toBeGreaterThan(0);
      // JSON lines, as in a cluster.
      expect(log).toContain('"msg":"controller running"');
    } catch (e) {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\ncontroller log:\n${log.slice(-3000)}`);
    }
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
