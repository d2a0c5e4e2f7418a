import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from './clients.ts';
import {
  defaultKubeconfig,
  inClusterConfig,
  KubeConfig,
  mergeKubeconfigs,
  parseKubeconfig,
  readKubeconfigFile,
} from './kubeconfig.ts';

const dir = mkdtempSync(join(tmpdir(), 'fedctl-kubeconfig-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a kubeconfig file (YAML text) under the test folder and returns its path. */
function file(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

const ONE = `
apiVersion: v1
kind: Config
current-context: a
clusters:
- name: a
  cluster:
    server: https://a.example:6443/
    certificate-authority: certs/ca.crt
    tls-server-name: api.a
- name: b
  cluster:
    server: https://b.example
    certificate-authority-data: Q0E=
    insecure-skip-tls-verify: true
    proxy-url: http://proxy:3128
users:
- name: files
  user:
    client-certificate: certs/me.crt
    client-key: /abs/me.key
    token-file: token
- name: data
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
    token: t0k
    as: admin
- name: basic
  user: { username: u, password: p }
- name: plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/get-token
      args: [--cluster, a]
      env: [{ name: REGION, value: eu }]
      installHint: install get-token
      interactiveMode: Never
contexts:
- name: a
  context: { cluster: a, user: files, namespace: team }
- name: b
  context: { cluster: b, user: data }
- name: nobody
  context: { cluster: b }
`;

describe('parseKubeconfig', () => {
  const path = file('sub/config', ONE);
  const kc = readKubeconfigFile(path);

  it('reads clusters with client-node field names, paths relative to the file and no trailing slash', () => {
    expect(kc.clusters).toEqual([
      {
        name: 'a',
        server: 'https://a.example:6443',
        caFile: join(dir, 'sub/certs/ca.crt'),
        skipTLSVerify: false,
        tlsServerName: 'api.a',
      },
      {
        name: 'b',
        server: 'https://b.example',
        caData: 'Q0E=',
        skipTLSVerify: true,
        proxyUrl: 'http://proxy:3128',
      },
    ]);
  });

  it.each([
    [
      'files (relative and absolute paths)',
      {
        name: 'files',
        certFile: join(dir, 'sub/certs/me.crt'),
        keyFile: '/abs/me.key',
        tokenFile: join(dir, 'sub/token'),
      },
    ],
    ['data', { name: 'data', certData: 'Q0VSVA==', keyData: 'S0VZ', token: 't0k', impersonateUser: 'admin' }],
    ['basic', { name: 'basic', username: 'u', password: 'p' }],
    [
      'plugin (a command with a slash is relative to the file)',
      {
        name: 'plugin',
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: join(dir, 'sub/bin/get-token'),
          args: ['--cluster', 'a'],
          env: [{ name: 'REGION', value: 'eu' }],
          installHint: 'install get-token',
          provideClusterInfo: false,
          interactiveMode: 'Never',
        },
      },
    ],
  ])('reads user %s', (_what, want) => {
    expect(kc.users.find((u) => want.name === u.name)).toEqual(want);
  });

  it('reads contexts (a context without user has user "") and the current context', () => {
    expect(kc.contexts).toEqual([
      { name: 'a', cluster: 'a', user: 'files', namespace: 'team' },
      { name: 'b', cluster: 'b', user: 'data' },
      { name: 'nobody', cluster: 'b', user: '' },
    ]);
    expect(kc.currentContext).toBe('a');
  });

  it('looks a bare exec command up on PATH (no folder added)', () => {
    const p = parseKubeconfig(
      'users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws}}}]',
      '/x/config',
    );
    expect(p.users[0]?.exec?.command).toBe('aws');
  });

  it('takes an empty file as an empty kubeconfig', () => {
    expect(parseKubeconfig('', '/x/config')).toEqual({
      clusters: [],
      users: [],
      contexts: [],
      currentContext: '',
    });
  });

  it.each([
    ['clusters: [', 'kubeconfig /k/config is not valid YAML'],
    ['- a\n- b', 'kubeconfig /k/config is not a kubeconfig (not a YAML mapping)'],
    ['clusters: {a: 1}', 'kubeconfig /k/config: clusters must be a list'],
    ['clusters: [{cluster: {server: x}}]', 'kubeconfig /k/config: clusters[0] has no name'],
    ['clusters: [{name: c}]', 'kubeconfig /k/config: clusters[0] ("c") has no cluster'],
    ['clusters: [{name: c, cluster: {}}]', 'kubeconfig /k/config: clusters[0] ("c") has no cluster.server'],
    [
      'clusters: [{name: c, cluster: {server: 5}}]',
      'kubeconfig /k/config: clusters[0] ("c"): cluster.server must be a string',
    ],
    [
      'users: [{name: u, user: {exec: {apiVersion: v1}}}]',
      'kubeconfig /k/config: users[0] ("u") has an exec plugin without command',
    ],
    [
      'users: [{name: u, user: {exec: {command: x, args: [1]}}}]',
      'kubeconfig /k/config: users[0] ("u"): exec.args must be a list of strings',
    ],
    [
      'contexts: [{name: x, context: {user: u}}]',
      'kubeconfig /k/config: contexts[0] ("x") has no context.cluster',
    ],
    [
      'clusters: [{name: c, cluster: {server: a}}, {name: c, cluster: {server: b}}]',
      'kubeconfig /k/config: two clusters are named "c"',
    ],
  ])('refuses %j: %s', (text, message) => {
    expect(() => parseKubeconfig(text, '/k/config')).toThrow(message);
  });

  it('names the file it cannot read', () => {
    expect(() => readKubeconfigFile(join(dir, 'missing'))).toThrow(
      `cannot read kubeconfig ${join(dir, 'missing')}: no such file`,
    );
  });
});

describe('merging kubeconfigs as kubectl does', () => {
  const part = (server: string, current: string) =>
    parseKubeconfig(
      `current-context: ${current}
clusters: [{name: shared, cluster: {server: ${server}}}, {name: only-${server}, cluster: {server: ${server}}}]
contexts: [{name: shared, context: {cluster: shared}}]`,
      `/${server}`,
    );

  it('keeps the first definition of a name and the first non-empty current-context', () => {
    const m = mergeKubeconfigs([part('first', ''), part('second', 'x'), part('third', 'y')]);
    expect(m.clusters.map((c) => `${c.name}=${c.server}`)).toEqual([
      'shared=first',
      'only-first=first',
      'only-second=second',
      'only-third=third',
    ]);
    expect(m.contexts).toHaveLength(1);
    expect(m.currentContext).toBe('x');
  });
});

describe('where the default kubeconfig comes from', () => {
  const home = join(dir, 'home');
  const sa = join(dir, 'sa');
  const a = file('merge/a', 'current-context: a\nclusters: [{name: a, cluster: {server: https://a}}]');
  const b = file(
    'merge/b',
    'current-context: b\nclusters: [{name: a, cluster: {server: https://other}}, {name: b, cluster: {server: https://b}}]',
  );

  it('merges the files of KUBECONFIG in order, skipping missing ones', () => {
    const got = defaultKubeconfig({ env: { KUBECONFIG: `${join(dir, 'nope')}:${a}::${b}` }, home });
    expect(got.source).toBe(`${a}:${b}`);
    expect(got.parts.clusters.map((c) => c.server)).toEqual(['https://a', 'https://b']);
    expect(got.parts.currentContext).toBe('a');
  });

  it('says so when no file of KUBECONFIG exists', () => {
    expect(() => defaultKubeconfig({ env: { KUBECONFIG: '/nope/1:/nope/2' }, home })).toThrow(
      'none of the files in KUBECONFIG exists (/nope/1:/nope/2)',
    );
  });

  it('falls back to ~/.kube/config, then to the pod service account, then explains', () => {
    expect(() => defaultKubeconfig({ env: {}, home, serviceAccountDir: sa })).toThrow(
      `no kubeconfig found: ${join(home, '.kube', 'config')} does not exist`,
    );
    file('sa/token', 'sa-token\n');
    file('sa/namespace', 'kube-federation-system');
    const env = { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' };
    expect(defaultKubeconfig({ env, home, serviceAccountDir: sa })).toEqual({
      source: 'in-cluster',
      parts: {
        clusters: [
          {
            name: 'inCluster',
            server: 'https://[fd00::1]:443',
            caFile: join(sa, 'ca.crt'),
            skipTLSVerify: false,
          },
        ],
        users: [{ name: 'inClusterUser', tokenFile: join(sa, 'token') }],
        contexts: [
          {
            name: 'inClusterContext',
            cluster: 'inCluster',
            user: 'inClusterUser',
            namespace: 'kube-federation-system',
          },
        ],
        currentContext: 'inClusterContext',
      },
    });
    file('home/.kube/config', 'current-context: home\nclusters: [{name: h, cluster: {server: https://h}}]');
    expect(defaultKubeconfig({ env, home, serviceAccountDir: sa }).parts.currentContext).toBe('home');
  });

  it('needs the service host and port to be in a pod', () => {
    expect(() => inClusterConfig({}, sa)).toThrow('not in a pod');
  });
});

describe('loadKubeConfig: one context, its cluster and its user', () => {
  const path = file('load/config', ONE);

  it('keeps only the named context and says where it came from', () => {
    const kc = loadKubeConfig({ kubeconfig: path, context: 'b' });
    expect(kc.getContexts().map((c) => c.name)).toEqual(['b']);
    expect(kc.getCurrentCluster()?.server).toBe('https://b.example');
    expect(kc.getCurrentUser()?.token).toBe('t0k');
    expect(kc.source).toBe(path);
  });

  it('takes the current context by default, and a context without user has no credentials', () => {
    expect(loadKubeConfig({ kubeconfig: path }).getCurrentContext()).toBe('a');
    expect(loadKubeConfig({ kubeconfig: path, context: 'nobody' }).getCurrentUser()).toBe(null);
  });

  it.each([
    [
      'contexts: [{name: x, context: {cluster: c}}]',
      'y',
      'context "y" not found in kubeconfig FILE (known: x)',
    ],
    [
      'contexts: [{name: x, context: {cluster: c}}]',
      'x',
      'context "x" names cluster "c", which is not in kubeconfig FILE',
    ],
    [
      'clusters: [{name: c, cluster: {server: https://c}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]',
      'x',
      'context "x" names user "u", which is not in kubeconfig FILE',
    ],
    ['clusters: []', undefined, 'kubeconfig FILE has no current-context'],
  ])('%j, context %s: %s', (text, context, message) => {
    const p = file('load/broken', text);
    expect(() => loadKubeConfig({ kubeconfig: p, context })).toThrow(message.replace('FILE', p));
  });
});

describe('KubeConfig', () => {
  it('answers the lookups client-node code makes', () => {
    const kc = new KubeConfig();
    kc.loadFromOptions(parseKubeconfig(ONE, '/k/config'));
    expect(kc.getContextObject('b')?.user).toBe('data');
    expect(kc.getCluster('a')?.tlsServerName).toBe('api.a');
    expect(kc.getUser('nope')).toBe(null);
    kc.setCurrentContext('b');
    expect(kc.getCurrentUser()?.name).toBe('data');
    expect(kc.getCurrentCluster()?.name).toBe('b');
  });
});
