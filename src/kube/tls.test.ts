import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeConfigForEndpoint } from './clients.ts';
import { run } from './exec.ts';
import { KubeConfig, parseKubeconfig } from './kubeconfig.ts';
import { parseCertificates, type RelaxedTlsCheck, verifyServerChain } from './tls.ts';
import { kubeFetch } from './transport.ts';

// Certificates made here with the openssl CLI (`openssl ca` sets past and future validity windows),
// served by a real TLS server on 127.0.0.1, and fetched through the same client path member
// requests and watches use (kubeConfigForEndpoint → kubeRequest).

const dir = mkdtempSync(join(tmpdir(), 'fedctl-tls-test-'));
const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });

interface Pem {
  cert: string;
  key: string;
}

/** A CA valid since 2019 (a leaf's notBefore + 1 s, where ValidityPeriod checks, is inside it). */
const makeCa = (name: string) =>
  sign(
    name,
    'self',
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n',
    '20190101000000Z',
    '21000101000000Z',
  );

const read = (name: string): Pem => ({
  cert: readFileSync(join(dir, `${name}.crt`), 'utf8'),
  key: readFileSync(join(dir, `${name}.key`), 'utf8'),
});

/** A serving certificate for `sans`, signed by CA `ca`, valid from `start` to `end` (YYYYMMDDHHMMSSZ). */
const makeLeaf = (name: string, ca: string, sans: string, start: string, end: string) =>
  sign(name, ca, `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\n`, start, end);

/** A certificate with extensions `ext`, signed by `issuer` (or by its own key), valid from start to end. */
async function sign(name: string, issuer: string, ext: string, start: string, end: string): Promise<Pem> {
  writeFileSync(join(dir, `${name}.ext`), ext);
  writeFileSync(
    join(dir, `${name}.cnf`),
    [
      '[ca]',
      'default_ca = test',
      '[test]',
      `database = ${join(dir, `${name}.index`)}`,
      `new_certs_dir = ${dir}`,
      `serial = ${join(dir, `${name}.serial`)}`,
      'default_md = sha256',
      'policy = any',
      'unique_subject = no',
      '[any]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, `${name}.index`), '');
  writeFileSync(join(dir, `${name}.serial`), '1000\n');
  await openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
  await openssl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`);
  await openssl(
    'ca',
    '-batch',
    '-notext',
    '-config',
    `${name}.cnf`,
    ...(issuer === 'self'
      ? ['-selfsign', '-keyfile', `${name}.key`]
      : ['-cert', `${issuer}.crt`, '-keyfile', `${issuer}.key`]),
    '-in',
    `${name}.csr`,
    '-startdate',
    start,
    '-enddate',
    end,
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  );
  return read(name);
}

const servers: https.Server[] = [];
let ca: Pem;
let certs: Record<'valid' | 'expired' | 'future' | 'otherName' | 'untrusted', Pem>;
let client: Pem;

/** An HTTPS server on 127.0.0.1 answering /healthz with "ok", presenting `pem`. */
async function serve(pem: Pem): Promise<string> {
  const server = https.createServer({ cert: pem.cert, key: pem.key }, (_req, res) => res.end('ok'));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** GET /healthz the way fedctl reaches a member: "ok" or the error message. */
async function healthz(server: string, relaxed: RelaxedTlsCheck[]): Promise<string> {
  const kc = kubeConfigForEndpoint({
    name: 'member',
    server,
    caData: Buffer.from(ca.cert).toString('base64'),
    token: 't',
    relaxedTlsChecks: relaxed,
  });
  try {
    return await (await kubeFetch(kc, { method: 'GET', path: '/healthz', timeoutMs: 10_000 })).text();
  } catch (e) {
    return (e as Error).message;
  }
}

beforeAll(async () => {
  ca = await makeCa('ca');
  await makeCa('other-ca');
  const sans = 'IP:127.0.0.1,DNS:localhost';
  certs = {
    valid: await makeLeaf('valid', 'ca', sans, '20200101000000Z', '20991231000000Z'),
    expired: await makeLeaf('expired', 'ca', sans, '20200101000000Z', '20210101000000Z'),
    future: await makeLeaf('future', 'ca', sans, '20980101000000Z', '20990101000000Z'),
    otherName: await makeLeaf('other-name', 'ca', 'DNS:member.example', '20200101000000Z', '20991231000000Z'),
    untrusted: await makeLeaf('untrusted', 'other-ca', sans, '20200101000000Z', '20991231000000Z'),
  };
  client = await sign('client', 'ca', 'extendedKeyUsage=clientAuth\n', '20200101000000Z', '20991231000000Z');
}, 60_000);

afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('disabledTLSValidations through the member client', () => {
  // [certificate, disabled checks, accepted?]
  const table: Array<[keyof typeof certs, RelaxedTlsCheck[], boolean]> = [
    ['valid', [], true],
    ['otherName', [], false],
    ['otherName', ['SubjectName'], true],
    ['otherName', ['ValidityPeriod'], false],
    ['expired', [], false],
    ['expired', ['SubjectName'], false],
    ['expired', ['ValidityPeriod'], true],
    ['future', ['ValidityPeriod'], true],
    ['untrusted', ['SubjectName'], false],
    ['untrusted', ['ValidityPeriod'], false],
    ['untrusted', ['SubjectName', 'ValidityPeriod'], false],
    ['valid', ['SubjectName', 'ValidityPeriod'], true],
  ];
  it.each(table)('%s certificate with %j disabled: accepted %s', async (cert, relaxed, accepted) => {
    const answer = await healthz(await serve(certs[cert]), relaxed);
    if (accepted) expect(answer).toBe('ok');
    else expect(answer).not.toBe('ok');
  });

  it('says why a certificate was refused', async () => {
    expect(await healthz(await serve(certs.otherName), [])).toMatch(/altnames|not valid for|does not match/i);
    expect(await healthz(await serve(certs.otherName), ['ValidityPeriod'])).toContain(
      'certificate is not valid for 127.0.0.1 (its names: DNS:member.example)',
    );
    expect(await healthz(await serve(certs.untrusted), ['ValidityPeriod'])).toMatch(
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE|not signed by a trusted CA/,
    );
  });
});

describe('verifyServerChain', () => {
  const chainOf = (pem: Pem) => parseCertificates(pem.cert);
  const roots = () => parseCertificates(ca.cert);

  it('accepts a trusted, current, correctly named certificate', () => {
    expect(
      verifyServerChain(chainOf(certs.valid), roots(), { hostname: 'localhost', ignoreValidity: false }),
    ).toBe(undefined);
  });

  it('checks dates at the leaf’s notBefore + 1 s with ignoreValidity, as KubeFed did', () => {
    expect(
      verifyServerChain(chainOf(certs.expired), roots(), { hostname: '127.0.0.1', ignoreValidity: false }),
    ).toMatch(/is not valid at/);
    expect(
      verifyServerChain(chainOf(certs.expired), roots(), { hostname: '127.0.0.1', ignoreValidity: true }),
    ).toBe(undefined);
  });

  it('refuses an unknown CA and a wrong name, and skips the name without a hostname', () => {
    expect(verifyServerChain(chainOf(certs.untrusted), roots(), { ignoreValidity: true })).toMatch(
      /not signed by a trusted CA/,
    );
    expect(
      verifyServerChain(chainOf(certs.otherName), roots(), { hostname: 'localhost', ignoreValidity: true }),
    ).toMatch(/not valid for localhost/);
    expect(verifyServerChain(chainOf(certs.otherName), roots(), { ignoreValidity: true })).toBe(undefined);
    expect(verifyServerChain([], roots(), { ignoreValidity: true })).toMatch(/no certificate/);
  });
});

describe('TLS settings of a kubeconfig through the transport', () => {
  /** An HTTPS server that requires a client certificate from `ca` and answers with its CN. */
  async function mtls(pem: Pem = certs.valid): Promise<string> {
    const server = https.createServer(
      { cert: pem.cert, key: pem.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true },
      (req, res) =>
        res.end(String((req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN)),
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  /** GET / with a kubeconfig (YAML, read as if from the test folder): the answer or the error. */
  async function get(yaml: string): Promise<string> {
    const kc = new KubeConfig();
    kc.loadFromOptions(parseKubeconfig(yaml, join(dir, 'kubeconfig')));
    try {
      return await (await kubeFetch(kc, { method: 'GET', path: '/', timeoutMs: 10_000 })).text();
    } catch (e) {
      return (e as Error).message;
    }
  }
  const config = (server: string, cluster: string, user: string) => `
current-context: c
clusters: [{name: c, cluster: {server: "${server}", ${cluster}}}]
users: [{name: u, user: {${user}}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
`;

  it('presents the client certificate from files (paths relative to the kubeconfig) or from data', async () => {
    const server = await mtls();
    expect(
      await get(
        config(
          server,
          'certificate-authority: ca.crt',
          'client-certificate: client.crt, client-key: client.key',
        ),
      ),
    ).toBe('client');
    expect(
      await get(
        config(
          server,
          `certificate-authority-data: ${b64(ca.cert)}`,
          `client-certificate-data: ${b64(client.cert)}, client-key-data: ${b64(client.key)}`,
        ),
      ),
    ).toBe('client');
    expect(await get(config(server, 'certificate-authority: ca.crt', 'token: t'))).not.toBe('client');
  });

  it('presents the certificate an exec plugin returns', async () => {
    const server = await mtls();
    const plugin = join(dir, 'cert-plugin.sh');
    const credential = JSON.stringify({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { clientCertificateData: client.cert, clientKeyData: client.key },
    });
    writeFileSync(plugin, `#!/bin/sh\ncat <<'EOF'\n${credential}\nEOF\n`);
    chmodSync(plugin, 0o755);
    expect(
      await get(
        config(
          server,
          'certificate-authority: ca.crt',
          `exec: {apiVersion: client.authentication.k8s.io/v1, command: ${plugin}}`,
        ),
      ),
    ).toBe('client');
  });

  it('checks the server certificate against tls-server-name, and names a missing CA file', async () => {
    const server = await mtls(certs.otherName);
    const user = 'client-certificate: client.crt, client-key: client.key';
    expect(
      await get(config(server, 'certificate-authority: ca.crt, tls-server-name: member.example', user)),
    ).toBe('client');
    expect(await get(config(server, 'certificate-authority: ca.crt', user))).not.toBe('client');
    expect(await get(config(server, 'certificate-authority: missing.crt', user))).toBe(
      `cluster "c": cannot read certificate-authority ${join(dir, 'missing.crt')}: no such file`,
    );
  });
});
