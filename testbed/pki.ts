import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stdoutOf } from '../src/kube/exec.ts';

// Certificates for one testbed, made with the openssl CLI: one CA that signs every API server's
// serving certificate and the admin client certificate, a front-proxy CA of its own (as kubeadm
// makes: with one CA for both, the API server verifies every client certificate twice, once as a
// would-be front proxy, which cost an eighth of its CPU under bulk writes), plus a service-account
// key pair per cluster. EC P-256 keys keep generation fast.

export interface TestbedPki {
  dir: string;
  caCert: string;
  caKey: string;
  adminCert: string;
  adminKey: string;
  /** CA of request-header (front-proxy) authentication, and nothing else. */
  frontProxyCaCert: string;
  frontProxyCaKey: string;
  /** Client certificate the API server's aggregator presents to extension API servers. */
  frontProxyCert: string;
  frontProxyKey: string;
}

export interface ServingCert {
  cert: string;
  key: string;
}

export interface ServiceAccountKeys {
  privateKey: string;
  publicKey: string;
}

const newKey = (path: string) =>
  stdoutOf('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);

/** Subject alternative names for an API server reachable as 127.0.0.1/localhost and in-cluster. */
export function apiServerSans(domain: string, serviceIP: string): string[] {
  return [
    'IP:127.0.0.1',
    'DNS:localhost',
    `IP:${serviceIP}`,
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    `DNS:kubernetes.default.svc.${domain}`,
  ];
}

async function signed(
  pki: TestbedPki,
  base: string,
  subject: string,
  ext: string,
  days: number,
  ca: { cert: string; key: string } = { cert: pki.caCert, key: pki.caKey },
): Promise<ServingCert> {
  const key = `${base}.key`;
  const csr = `${base}.csr`;
  const cert = `${base}.crt`;
  const extFile = `${base}.ext`;
  await newKey(key);
  await stdoutOf('openssl', ['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
  await writeFile(extFile, ext);
  await stdoutOf('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    String(days),
    '-sha256',
    '-extfile',
    extFile,
    '-out',
    cert,
  ]);
  return { cert, key };
}

/** A self-signed CA certificate and its key. */
async function newCa(key: string, cert: string, cn: string): Promise<void> {
  await newKey(key);
  await stdoutOf('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    key,
    '-subj',
    `/CN=${cn}`,
    '-days',
    '3650',
    '-sha256',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    '-out',
    cert,
  ]);
}

/** Creates (or reuses) the CAs and the admin and front-proxy client certificates in `dir`. */
export async function ensurePki(dir: string): Promise<TestbedPki> {
  await mkdir(dir, { recursive: true });
  const pki: TestbedPki = {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    frontProxyCaCert: join(dir, 'front-proxy-ca.crt'),
    frontProxyCaKey: join(dir, 'front-proxy-ca.key'),
    frontProxyCert: join(dir, 'front-proxy-client.crt'),
    frontProxyKey: join(dir, 'front-proxy-client.key'),
  };
  if (!existsSync(pki.caCert)) await newCa(pki.caKey, pki.caCert, 'fedctl-testbed-ca');
  // A testbed made before the front-proxy CA had its client signed by the main CA: made again.
  if (!existsSync(pki.frontProxyCaCert)) {
    await newCa(pki.frontProxyCaKey, pki.frontProxyCaCert, 'fedctl-testbed-front-proxy-ca');
    await rm(pki.frontProxyCert, { force: true });
  }
  if (!existsSync(pki.adminCert)) {
    await signed(
      pki,
      join(dir, 'admin'),
      '/O=system:masters/CN=admin',
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
      3650,
    );
  }
  if (!existsSync(pki.frontProxyCert)) {
    await signed(
      pki,
      join(dir, 'front-proxy-client'),
      '/CN=front-proxy-client',
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
      3650,
      { cert: pki.frontProxyCaCert, key: pki.frontProxyCaKey },
    );
  }
  return pki;
}

/** The API server's serving certificate for one cluster. */
export async function ensureServingCert(
  pki: TestbedPki,
  name: string,
  domain: string,
  serviceIP: string,
): Promise<ServingCert> {
  const base = join(pki.dir, `${name}-apiserver`);
  if (existsSync(`${base}.crt`)) return { cert: `${base}.crt`, key: `${base}.key` };
  const ext = [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${apiServerSans(domain, serviceIP).join(',')}`,
    '',
  ].join('\n');
  return signed(pki, base, `/CN=${name}-apiserver`, ext, 3650);
}

/** The key pair the API server signs service-account tokens with (and KCM issues them with). */
export async function ensureServiceAccountKeys(pki: TestbedPki, name: string): Promise<ServiceAccountKeys> {
  const privateKey = join(pki.dir, `${name}-sa.key`);
  const publicKey = join(pki.dir, `${name}-sa.pub`);
  if (!existsSync(publicKey)) {
    await newKey(privateKey);
    await stdoutOf('openssl', ['pkey', '-in', privateKey, '-pubout', '-out', publicKey]);
  }
  return { privateKey, publicKey };
}

/** PEM file contents as base64, for kubeconfig `*-data` fields. */
export async function base64File(path: string): Promise<string> {
  return (await readFile(path)).toString('base64');
}
