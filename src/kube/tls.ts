// KubeFedCluster `disabledTLSValidations` other than `*`, as KubeFed honoured them:
// - SubjectName: the chain must lead to a trusted CA, but the certificate need not name the host.
// - ValidityPeriod: chain and host name are checked, but at the leaf's notBefore + 1 s instead of
//   now (KubeFed's VerifyPeerCertificate did exactly this), so expired and not-yet-valid
//   certificates are accepted while an untrusted or misnamed one is still refused.
// Node's TLS stack can skip the name check (checkServerIdentity) but not the date check, so for
// ValidityPeriod the connection is made with verification deferred and the chain is verified here.
// Every member request and watch goes through the one pooled dispatcher transport.ts builds for the
// member's KubeConfig from dispatcherOptions below, so both get the same checks.

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { Cluster, User } from './kubeconfig.ts';

export type RelaxedTlsCheck = 'SubjectName' | 'ValidityPeriod';

export type ConnectOptions = tls.ConnectionOptions & { keepAlive?: boolean; keepAliveInitialDelay?: number };

/** How to reach a server (client-node's shape, so its socks dispatcher takes the same checks). */
export type DispatcherOptions =
  | { type: 'proxy'; uri: string; requestTls: tls.ConnectionOptions; connect: ConnectOptions }
  | { type: 'socks'; uri: string; requestTls: tls.ConnectionOptions }
  | { type: 'agent'; connect: ConnectOptions }
  | { type: 'none' };

// undici's default keep-alive probe delay (60 s) races cloud load balancers' idle timeouts (AWS ELB:
// 60 s); 30 s is client-go's.
const KEEP_ALIVE = { keepAlive: true, keepAliveInitialDelay: 30_000 };

/**
 * The TLS settings and proxy of a kubeconfig cluster and user: CA (file or data; the system roots
 * without one), client certificate and key (file or data, or what an exec plugin returned),
 * tls-server-name, insecure-skip-tls-verify, proxy-url. Files are read here, so a missing one fails
 * every request with its path.
 */
export function dispatcherOptions(
  cluster: Cluster,
  user: User | null,
  clientCert?: { cert: string; key: string },
): DispatcherOptions {
  const where = `cluster "${cluster.name}"`;
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify)
    throw new Error(
      `${where}: server ${cluster.server} is plain HTTP; fedctl uses it only with insecure-skip-tls-verify: true`,
    );
  const pem = (file: string | undefined, data: string | undefined, what: string, owner: string) => {
    if (file) {
      try {
        return readFileSync(file);
      } catch (e) {
        const why = (e as { code?: string }).code === 'ENOENT' ? 'no such file' : (e as Error).message;
        throw new Error(`${owner}: cannot read ${what} ${file}: ${why}`);
      }
    }
    return data ? Buffer.from(data, 'base64') : undefined;
  };
  const userWhere = `user "${user?.name ?? ''}"`;
  const opts: tls.ConnectionOptions = {};
  const ca = pem(cluster.caFile, cluster.caData, 'certificate-authority', where);
  if (ca) opts.ca = ca;
  const cert = clientCert?.cert ?? pem(user?.certFile, user?.certData, 'client-certificate', userWhere);
  const key = clientCert?.key ?? pem(user?.keyFile, user?.keyData, 'client-key', userWhere);
  if (cert) opts.cert = cert;
  if (key) opts.key = key;
  if (cluster.tlsServerName) opts.servername = cluster.tlsServerName;
  if (cluster.skipTLSVerify) opts.rejectUnauthorized = false;
  if (cluster.proxyUrl) {
    const scheme = cluster.proxyUrl.split(':')[0]?.toLowerCase() ?? '';
    if (scheme.startsWith('socks')) return { type: 'socks', uri: cluster.proxyUrl, requestTls: opts };
    if (scheme !== 'http' && scheme !== 'https')
      throw new Error(`${where}: proxy-url ${cluster.proxyUrl} is not http, https or socks5`);
    return { type: 'proxy', uri: cluster.proxyUrl, requestTls: opts, connect: { ...KEEP_ALIVE } };
  }
  return { type: 'agent', connect: { ...opts, ...KEEP_ALIVE } };
}

/** OpenSSL's verdicts that ValidityPeriod overrides (after fedctl re-verifies the chain itself). */
const DATE_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/** The PEM certificates of a bundle. */
export function parseCertificates(pem: string | Buffer): X509Certificate[] {
  const text = Buffer.isBuffer(pem) ? pem.toString('utf8') : pem;
  return (text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (block) => new X509Certificate(block),
  );
}

const validAt = (c: X509Certificate, at: number) =>
  Date.parse(c.validFrom) <= at && at <= Date.parse(c.validTo);

const issuedBy = (c: X509Certificate, issuer: X509Certificate) =>
  c.checkIssued(issuer) && c.verify(issuer.publicKey);

/**
 * Pure: why a server's chain (leaf first, as presented) is not trusted by `roots`, or undefined when
 * it is. `hostname` absent skips the name check (SubjectName); `ignoreValidity` checks every
 * certificate's dates at the leaf's notBefore + 1 s (ValidityPeriod).
 */
export function verifyServerChain(
  chain: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  opts: { hostname?: string; ignoreValidity: boolean; now?: number },
): string | undefined {
  const leaf = chain[0];
  if (!leaf) return 'the server presented no certificate';
  const at = opts.ignoreValidity ? Date.parse(leaf.validFrom) + 1000 : (opts.now ?? Date.now());
  const dates = (c: X509Certificate) =>
    validAt(c, at)
      ? undefined
      : `certificate "${c.subject.replace(/\n/g, ', ')}" is not valid at ${new Date(at).toISOString()} (valid ${c.validFrom} to ${c.validTo})`;
  let current = leaf;
  const used = new Set<string>([leaf.fingerprint256]);
  let trusted = false;
  for (let depth = 0; depth < 10 && !trusted; depth++) {
    const problem = dates(current);
    if (problem) return problem;
    if (roots.some((r) => r.fingerprint256 === current.fingerprint256)) break;
    const root = roots.find((r) => issuedBy(current, r));
    if (root) {
      const rootProblem = dates(root);
      if (rootProblem) return rootProblem;
      trusted = true;
      break;
    }
    const next = chain.find((c) => !used.has(c.fingerprint256) && c.ca && issuedBy(current, c));
    if (!next)
      return `certificate "${current.subject.replace(/\n/g, ', ')}" is not signed by a trusted CA (spec.caBundle or the system roots)`;
    used.add(next.fingerprint256);
    current = next;
  }
  if (!trusted && !roots.some((r) => r.fingerprint256 === current.fingerprint256))
    return 'certificate chain is longer than 10 certificates';
  if (opts.hostname === undefined) return undefined;
  const host = opts.hostname.replace(/^\[|\]$/g, '');
  const matched = isIP(host) ? leaf.checkIP(host) : leaf.checkHost(host, { subject: 'never' });
  return matched
    ? undefined
    : `certificate is not valid for ${host} (its names: ${leaf.subjectAltName ?? 'none'}); list SubjectName in spec.disabledTLSValidations to skip this check`;
}

/** The chain a TLS socket's peer presented, leaf first. */
function peerChain(socket: tls.TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (cert?.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate;
  }
  return chain;
}

type ConnectorOptions = { hostname: string; host?: string; port: string; servername?: string };
type Connector = (
  opts: ConnectorOptions,
  callback: (err: Error | null, socket: tls.TLSSocket | null) => void,
) => void;

/**
 * An undici connector (undici accepts a function as an Agent's `connect`) that accepts
 * expired or not-yet-valid certificates as KubeFed's ValidityPeriod did, and checks everything else.
 */
export function validityIgnoringConnector(base: tls.ConnectionOptions, skipSubjectName: boolean): Connector {
  const roots = parseCertificates(
    base.ca ? ([] as unknown[]).concat(base.ca).map(String).join('\n') : tls.rootCertificates.join('\n'),
  );
  return (opts, callback) => {
    const hostname = opts.hostname.replace(/^\[|\]$/g, '');
    const servername = opts.servername || base.servername || (isIP(hostname) ? undefined : hostname);
    let done = false;
    const finish = (err: Error | null, socket: tls.TLSSocket | null) => {
      if (done) return;
      done = true;
      callback(err, socket);
    };
    const socket = tls.connect({
      ...base,
      host: hostname,
      port: Number(opts.port || 443),
      servername,
      ALPNProtocols: ['http/1.1'],
      // Verified below, once the chain is known.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    socket.once('secureConnect', () => {
      const code = String(socket.authorizationError ?? '');
      let problem: string | undefined;
      if (!socket.authorized && !DATE_ERRORS.has(code)) {
        problem = `certificate verification failed: ${code}`;
      } else {
        problem = verifyServerChain(peerChain(socket), roots, {
          hostname: skipSubjectName ? undefined : hostname,
          ignoreValidity: true,
        });
      }
      if (problem) {
        const err = Object.assign(new Error(`TLS connection to ${hostname}:${opts.port}: ${problem}`), {
          code: 'ERR_TLS_CERT_REJECTED',
        });
        socket.destroy(err);
        finish(err, null);
        return;
      }
      finish(null, socket);
    });
    socket.on('error', (err) => finish(err, null));
  };
}

/**
 * Dispatcher options with KubeFed's relaxed checks applied. Throws (so every request fails with the
 * reason) for ValidityPeriod through a proxy, which fedctl cannot verify itself.
 */
export function relaxDispatcherOptions(
  opts: DispatcherOptions,
  skip: ReadonlySet<RelaxedTlsCheck>,
  clusterName: string,
): DispatcherOptions {
  if (skip.size === 0) return opts;
  const skipName = skip.has('SubjectName');
  const noNameCheck = { checkServerIdentity: () => undefined };
  if (opts.type === 'proxy' || opts.type === 'socks') {
    if (skip.has('ValidityPeriod'))
      throw new Error(
        `cluster ${clusterName}: disabledTLSValidations ValidityPeriod is not supported together with proxyURL`,
      );
    return { ...opts, requestTls: { ...opts.requestTls, ...noNameCheck } };
  }
  const connect = opts.type === 'agent' ? opts.connect : { ...KEEP_ALIVE };
  if (!skip.has('ValidityPeriod')) return { type: 'agent', connect: { ...connect, ...noNameCheck } };
  const connector = validityIgnoringConnector(connect, skipName);
  // Typed as options (client-node's shape); undici's Agent takes a connector function too.
  return { type: 'agent', connect: connector as unknown as typeof connect };
}
