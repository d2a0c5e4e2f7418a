import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stdoutOf } from '../src/kube/exec.ts';

// Certificates for one testbed, made with the openssl CLI: one CA that signs every API server's
// serving certificate and the admin client certificate, plus a service-account key pair per cluster.
// EC P-256 keys keep generation fast.

export interface TestbedPki {
  dir: string;
  caCert: string;
  caKey: string;
  adminCert: string;
  adminKey: string;
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
    pki.caCert,
    '-CAkey',
    pki.caKey,
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

/** Creates (or reuses) the CA and the admin client certificate in `dir`. */
export async function ensurePki(dir: string): Promise<TestbedPki> {
  await mkdir(dir, { recursive: true });
  const pki: TestbedPki = {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    frontProxyCert: join(dir, 'front-proxy-client.crt'),
    frontProxyKey: join(dir, 'front-proxy-client.key'),
  };
  if (!existsSync(pki.caCert)) {
    await newKey(pki.caKey);
    await stdoutOf('openssl', [
      'req',
      '-x509',
      '-new',
      '-key',
      pki.caKey,
      '-subj',
      '/CN=fedctl-testbed-ca',
      '-days',
      '3650',
      '-sha256',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      '-out',
      pki.caCert,
    ]);
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
