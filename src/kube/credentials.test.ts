import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { serveFromMemory } from '../testing/fake-api.ts';
import { credentialsFor, ExecPlugin, parseExecCredential, TokenFile } from './credentials.ts';
import { type ExecConfig, KubeConfig, type User } from './kubeconfig.ts';
import { kubeRequest } from './transport.ts';

const dir = mkdtempSync(join(tmpdir(), 'fedctl-credentials-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);

/** A KubeConfig of one cluster and `user`. */
function kubeConfig(user: User): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://c.example:6443', caData: 'Q0E=', skipTLSVerify: false }],
    users: [user],
    contexts: [{ name: 'c', cluster: 'c', user: user.name }],
    currentContext: 'c',
  });
  return kc;
}

describe('credentials of a kubeconfig user', () => {
  it.each<[string, Omit<User, 'name'>, Record<string, string>]>([
    ['a bearer token', { token: 't0k' }, { authorization: 'Bearer t0k' }],
    ['basic auth', { username: 'u', password: 'p' }, { authorization: `Basic ${btoa('u:p')}` }],
    [
      'a token and impersonation',
      { token: 't', impersonateUser: 'admin' },
      { authorization: 'Bearer t', 'impersonate-user': 'admin' },
    ],
    ['a client certificate only', { certData: 'Q0VSVA==', keyData: 'S0VZ' }, {}],
  ])('%s: fixed headers, computed once', async (_what, user, headers) => {
    const source = credentialsFor(kubeConfig({ name: 'u', ...user }));
    expect(source.fixed).toEqual({ headers });
    expect(await source.current()).toEqual({ headers });
  });

  it('sends nothing for a context without user', () => {
    const kc = kubeConfig({ name: 'u' });
    kc.loadFromOptions({ ...kc, contexts: [{ name: 'c', cluster: 'c', user: '' }], currentContext: 'c' });
    expect(credentialsFor(kc).fixed).toEqual({ headers: {} });
  });
});

describe('a token file', () => {
  let now = 1_000_000;
  const path = at('token');
  const file = (fallback?: string) => new TokenFile('sa', path, fallback, { now: () => now });
  beforeEach(() => {
    if (existsSync(path)) unlinkSync(path);
  });

  it('is read again once a minute, not per request', async () => {
    writeFileSync(path, 'first\n');
    const t = file();
    expect(await t.token()).toBe('first');
    writeFileSync(path, 'second');
    now += 59_000;
    expect(await t.token()).toBe('first');
    now += 2_000;
    expect(await t.token()).toBe('second');
  });

  it('keeps the token it has when a re-read fails, and falls back to the kubeconfig token at first', async () => {
    writeFileSync(path, 'kept');
    const t = file();
    expect(await t.token()).toBe('kept');
    unlinkSync(path);
    now += 61_000;
    expect(await t.token()).toBe('kept');
    expect(await file('static').token()).toBe('static');
  });

  it('names the user and the file when there is no token at all', async () => {
    await expect(file().token()).rejects.toThrow(`user "sa": cannot read token-file ${path}: no such file`);
    writeFileSync(path, ' \n');
    await expect(file().token()).rejects.toThrow('the file is empty');
  });

  it('authenticates requests through the transport, rotated tokens included', async () => {
    writeFileSync(path, 'one');
    const seen: string[] = [];
    const kc = serveFromMemory(kubeConfig({ name: 'sa', tokenFile: path }), (req) => {
      seen.push(req.headers.authorization ?? '');
      return { status: 200, body: {} };
    });
    await kubeRequest(kc, { method: 'GET', path: '/api' });
    await kubeRequest(kc, { method: 'GET', path: '/api' });
    expect(seen).toEqual(['Bearer one', 'Bearer one']);
  });
});

// A fake exec plugin: records its args, env and KUBERNETES_EXEC_INFO, prints `out`, and fails with
// `fail`'s text on stderr when that file exists.
const PLUGIN = at('get-token');
writeFileSync(
  PLUGIN,
  `#!/bin/sh
d=$(dirname "$0")
echo "$* REGION=$REGION" >> "$d/calls"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$d/info"
if [ -f "$d/fail" ]; then cat "$d/fail" >&2; exit 3; fi
cat "$d/out"
`,
);
chmodSync(PLUGIN, 0o755);

const V1 = 'client.authentication.k8s.io/v1';
const V1BETA1 = 'client.authentication.k8s.io/v1beta1';
const calls = () => (existsSync(at('calls')) ? readFileSync(at('calls'), 'utf8').trim().split('\n') : []);
const credential = (apiVersion: string, status: object) =>
  writeFileSync(at('out'), JSON.stringify({ apiVersion, kind: 'ExecCredential', status }));

describe('an exec credential plugin', () => {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const exec = (extra: Partial<ExecConfig> = {}): ExecConfig => ({
    apiVersion: V1,
    command: PLUGIN,
    args: ['--cluster', 'c'],
    env: [{ name: 'REGION', value: 'eu' }],
    ...extra,
  });
  const plugin = (x: ExecConfig = exec()) =>
    new ExecPlugin('u', x, kubeConfig({ name: 'u' }).getCurrentCluster(), { now: () => now });
  beforeEach(() => {
    for (const f of ['calls', 'fail', 'out', 'info']) if (existsSync(at(f))) unlinkSync(at(f));
  });

  it('runs with the kubeconfig args and env, and keeps the credential until it expires (v1)', async () => {
    credential(V1, { token: 'a', expirationTimestamp: '2030-01-01T00:10:00Z' });
    const p = plugin();
    expect(await p.credential()).toEqual({ headers: { authorization: 'Bearer a' } });
    now += 9 * 60_000;
    credential(V1, { token: 'b', expirationTimestamp: '2030-01-01T00:20:00Z' });
    expect((await p.credential()).headers.authorization).toBe('Bearer a');
    now += 2 * 60_000;
    expect((await p.credential()).headers.authorization).toBe('Bearer b');
    expect(calls()).toEqual(['--cluster c REGION=eu', '--cluster c REGION=eu']);
    expect(JSON.parse(readFileSync(at('info'), 'utf8'))).toEqual({
      apiVersion: V1,
      kind: 'ExecCredential',
      spec: { interactive: false },
    });
  });

  it('keeps a credential without expiry until invalidated (v1beta1), running once for concurrent requests', async () => {
    credential(V1BETA1, { token: 'forever' });
    const p = plugin(exec({ apiVersion: V1BETA1 }));
    await Promise.all([p.credential(), p.credential(), p.credential()]);
    now += 365 * 86_400_000;
    await p.credential();
    expect(calls()).toHaveLength(1);
    p.invalidate();
    await p.credential();
    expect(calls()).toHaveLength(2);
  });

  it('passes the cluster to a plugin that asks for it', async () => {
    credential(V1, { token: 'a' });
    await plugin(exec({ provideClusterInfo: true })).credential();
    expect(JSON.parse(readFileSync(at('info'), 'utf8')).spec).toEqual({
      interactive: false,
      cluster: { server: 'https://c.example:6443', 'certificate-authority-data': 'Q0E=' },
    });
  });

  it('says why it failed: exit code and stderr, a missing command with its install hint, bad output', async () => {
    writeFileSync(at('fail'), 'error: SSO session expired, run login\n');
    await expect(plugin().credential()).rejects.toThrow(
      `exec credential plugin ${PLUGIN} of user "u" exited with code 3: error: SSO session expired, run login`,
    );
    unlinkSync(at('fail'));
    await expect(
      plugin(
        exec({ command: at('no-such-plugin'), installHint: 'Install it from example.com.' }),
      ).credential(),
    ).rejects.toThrow(`${at('no-such-plugin')} not found. Install it from example.com.`);
    credential(V1BETA1, { token: 'a' });
    await expect(plugin().credential()).rejects.toThrow(
      `printed apiVersion ${V1BETA1}, but the kubeconfig asks for ${V1}`,
    );
    await expect(
      plugin(exec({ apiVersion: 'client.authentication.k8s.io/v1alpha1' })).credential(),
    ).rejects.toThrow('apiVersion "client.authentication.k8s.io/v1alpha1" is not supported');
    await expect(plugin(exec({ interactiveMode: 'Always' })).credential()).rejects.toThrow(
      'interactiveMode is Always',
    );
  });

  it('is asked again after the server answers 401', async () => {
    credential(V1, { token: 'stale' });
    const seen: string[] = [];
    const kc = serveFromMemory(kubeConfig({ name: 'u', exec: exec() }), (req) => {
      seen.push(req.headers.authorization ?? '');
      return req.headers.authorization === 'Bearer stale'
        ? {
            status: 401,
            body: { kind: 'Status', code: 401, reason: 'Unauthorized', message: 'Unauthorized' },
          }
        : { status: 200, body: {} };
    });
    await expect(kubeRequest(kc, { method: 'GET', path: '/api' })).rejects.toThrow('HTTP 401');
    credential(V1, { token: 'fresh' });
    await kubeRequest(kc, { method: 'GET', path: '/api' });
    await kubeRequest(kc, { method: 'GET', path: '/api' });
    expect(seen).toEqual(['Bearer stale', 'Bearer fresh', 'Bearer fresh']);
    expect(calls()).toHaveLength(2);
  });

  it('fails requests with the plugin’s reason and the cluster', async () => {
    writeFileSync(at('fail'), 'no credentials\n');
    const kc = serveFromMemory(kubeConfig({ name: 'u', exec: exec() }), () => ({ status: 200, body: {} }));
    await expect(kubeRequest(kc, { method: 'GET', path: '/api' })).rejects.toThrow(
      `GET /api (cluster "c"): exec credential plugin ${PLUGIN} of user "u" exited with code 3: no credentials`,
    );
  });
});

describe('parseExecCredential', () => {
  const who = 'plugin';
  const out = (status: object, apiVersion = V1) =>
    JSON.stringify({ apiVersion, kind: 'ExecCredential', status });

  it.each<[string, string, ReturnType<typeof parseExecCredential>]>([
    ['a token', out({ token: 't' }), { credential: { headers: { authorization: 'Bearer t' } } }],
    [
      'a client certificate until a time',
      out({
        clientCertificateData: 'CERT',
        clientKeyData: 'KEY',
        expirationTimestamp: '2030-01-01T00:00:00Z',
      }),
      {
        credential: { headers: {}, clientCert: { cert: 'CERT', key: 'KEY' } },
        expiresAt: Date.parse('2030-01-01T00:00:00Z'),
      },
    ],
  ])('reads %s', (_what, stdout, want) => {
    expect(parseExecCredential(stdout, V1, who)).toEqual(want);
  });

  it.each([
    ['not json', 'plugin printed no ExecCredential JSON'],
    [JSON.stringify({ apiVersion: V1, kind: 'Status' }), 'plugin printed kind "Status", not ExecCredential'],
    [out({}), 'plugin returned neither status.token nor a client certificate'],
    [
      out({ clientCertificateData: 'CERT' }),
      'returned only one of status.clientCertificateData and status.clientKeyData',
    ],
    [out({ token: 't', expirationTimestamp: 'soon' }), 'unreadable expirationTimestamp soon'],
  ])('refuses %s', (stdout, message) => {
    expect(() => parseExecCredential(stdout, V1, who)).toThrow(message);
  });
});
