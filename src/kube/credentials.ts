// Who fedctl is to an API server: the headers (and, from exec plugins, the client certificate) a
// kubeconfig user stands for. Static credentials are computed once; a token file is re-read at most
// once a minute (client-go's rule for rotated service-account tokens); an exec plugin's credential is
// kept until its expirationTimestamp or until the server answers 401. auth-provider (oidc, gcp,
// azure) is legacy and rare: client-node serves it, loaded only when such a user is used.
import { readFile } from 'node:fs/promises';
import { CommandNotFoundError, type CommandRunner, run, stderrTail } from './exec.ts';
import type { Cluster, ExecConfig, KubeConfig, User } from './kubeconfig.ts';

export interface Credential {
  /** Authorization and Impersonate-User headers. */
  headers: Record<string, string>;
  /** PEM client certificate and key an exec plugin returned (they choose the connection pool). */
  clientCert?: { cert: string; key: string };
}

export interface CredentialSource {
  /** Set when the credential never changes: requests use it without awaiting anything. */
  readonly fixed?: Credential;
  current(): Promise<Credential>;
  /** The server answered 401: forget a cached credential so the next request fetches a new one. */
  invalidate(): void;
}

export interface CredentialOptions {
  /** Runs exec plugins (tests pass a fake); default exec.ts' run. */
  runner?: CommandRunner;
  now?: () => number;
  /** How old a token file's content may get before it is read again; default 60 s. */
  tokenFileMaxAgeMs?: number;
}

export const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];

/** The credential source for a KubeConfig's current user (none: no headers). */
export function credentialsFor(kc: KubeConfig, opts: CredentialOptions = {}): CredentialSource {
  const user = kc.getCurrentUser();
  const extra: Record<string, string> = user?.impersonateUser
    ? { 'impersonate-user': user.impersonateUser }
    : {};
  const fixed = (headers: Record<string, string>): CredentialSource => {
    const cred = { headers: { ...headers, ...extra } };
    return { fixed: cred, current: async () => cred, invalidate: () => undefined };
  };
  if (!user) return fixed({});
  // client-node's own shapes for the same things (a client-node KubeConfig passed in): its in-cluster
  // user is an auth-provider `tokenFile`, and an exec plugin may sit under auth-provider.config.exec.
  const provider = user.authProvider as { name?: string; config?: Record<string, unknown> } | undefined;
  const exec = user.exec ?? (provider?.config?.exec as ExecConfig | undefined);
  if (exec) {
    const plugin = new ExecPlugin(user.name, exec, kc.getCurrentCluster(), opts);
    return {
      current: async () => {
        const c = await plugin.credential();
        return { ...c, headers: { ...c.headers, ...extra } };
      },
      invalidate: () => plugin.invalidate(),
    };
  }
  const tokenFile =
    user.tokenFile ??
    (typeof provider?.config?.tokenFile === 'string' ? provider.config.tokenFile : undefined);
  if (tokenFile) {
    const file = new TokenFile(user.name, tokenFile, user.token, opts);
    return {
      current: async () => ({ headers: { authorization: `Bearer ${await file.token()}`, ...extra } }),
      invalidate: () => undefined,
    };
  }
  if (provider) return authProviderSource(kc, user, extra);
  if (user.token) return fixed({ authorization: `Bearer ${user.token}` });
  if (user.username !== undefined || user.password !== undefined) {
    const basic = Buffer.from(`${user.username ?? ''}:${user.password ?? ''}`).toString('base64');
    return fixed({ authorization: `Basic ${basic}` });
  }
  return fixed({});
}

/** auth-provider users: client-node computes the headers (and refreshes the tokens) per request. */
function authProviderSource(kc: KubeConfig, user: User, extra: Record<string, string>): CredentialSource {
  return {
    current: async () => {
      const { authProviderHeaders } = await import('./client-node-bridge.ts');
      try {
        return { headers: { ...(await authProviderHeaders(kc)), ...extra } };
      } catch (e) {
        throw new Error(
          `user "${user.name}": auth-provider ${user.authProvider?.name ?? '?'}: ${(e as Error).message}`,
          { cause: e },
        );
      }
    },
    invalidate: () => undefined,
  };
}

/**
 * A bearer token read from a file and read again once it is older than `maxAgeMs` (client-go's
 * cachingTokenSource: the kubelet rotates projected service-account tokens in place). A failed re-read
 * keeps the token it had; the first read falls back to the kubeconfig's `token`, if any.
 */
export class TokenFile {
  readonly #user: string;
  readonly #path: string;
  readonly #fallback?: string;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #token?: string;
  #readAt = 0;
  #reading?: Promise<string>;

  constructor(user: string, path: string, fallback: string | undefined, opts: CredentialOptions = {}) {
    this.#user = user;
    this.#path = path;
    this.#fallback = fallback;
    this.#maxAgeMs = opts.tokenFileMaxAgeMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
  }

  async token(): Promise<string> {
    if (this.#token !== undefined && this.#now() - this.#readAt < this.#maxAgeMs) return this.#token;
    this.#reading ??= this.#read().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  async #read(): Promise<string> {
    try {
      const token = (await readFile(this.#path, 'utf8')).trim();
      if (token === '') throw new Error('the file is empty');
      this.#token = token;
    } catch (e) {
      const why = (e as { code?: string }).code === 'ENOENT' ? 'no such file' : (e as Error).message;
      const old = this.#token ?? this.#fallback;
      if (old === undefined)
        throw new Error(`user "${this.#user}": cannot read token-file ${this.#path}: ${why}`, { cause: e });
      this.#token = old;
    }
    this.#readAt = this.#now();
    return this.#token;
  }
}

interface ExecCredentialStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

/**
 * A client-go exec credential plugin (client.authentication.k8s.io v1 or v1beta1): runs the command
 * with the kubeconfig's args and env and KUBERNETES_EXEC_INFO, reads the ExecCredential it prints,
 * and keeps it until status.expirationTimestamp (forever without one, until a 401). Concurrent
 * requests share one run.
 */
export class ExecPlugin {
  readonly #user: string;
  readonly #exec: ExecConfig;
  readonly #cluster: Cluster | null;
  readonly #runner: CommandRunner;
  readonly #now: () => number;
  #cached?: { credential: Credential; expiresAt?: number };
  #running?: Promise<Credential>;

  constructor(user: string, exec: ExecConfig, cluster: Cluster | null, opts: CredentialOptions = {}) {
    this.#user = user;
    this.#exec = exec;
    this.#cluster = cluster;
    this.#runner = opts.runner ?? run;
    this.#now = opts.now ?? Date.now;
  }

  async credential(): Promise<Credential> {
    const c = this.#cached;
    if (c && (c.expiresAt === undefined || this.#now() < c.expiresAt)) return c.credential;
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  invalidate(): void {
    this.#cached = undefined;
  }

  async #run(): Promise<Credential> {
    const x = this.#exec;
    const who = `exec credential plugin ${x.command} of user "${this.#user}"`;
    const apiVersion = x.apiVersion ?? '';
    if (!EXEC_API_VERSIONS.includes(apiVersion))
      throw new Error(
        `${who}: apiVersion "${apiVersion}" is not supported (use ${EXEC_API_VERSIONS.join(' or ')})`,
      );
    if (x.interactiveMode === 'Always')
      throw new Error(`${who}: interactiveMode is Always, but fedctl runs plugins without a terminal`);
    const env: Record<string, string> = {};
    for (const { name, value } of x.env ?? []) env[name] = value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify({
      apiVersion,
      kind: 'ExecCredential',
      spec: { interactive: false, ...(x.provideClusterInfo ? { cluster: await this.#clusterInfo() } : {}) },
    });
    let out: Awaited<ReturnType<CommandRunner>>;
    try {
      out = await this.#runner(x.command, x.args ?? [], { env, allowFailure: true, timeoutMs: 60_000 });
    } catch (e) {
      if (e instanceof CommandNotFoundError)
        throw new Error(
          `${who}: ${x.command} not found${x.installHint ? `. ${x.installHint.trim()}` : ': is it installed?'}`,
          {
            cause: e,
          },
        );
      throw new Error(`${who}: ${(e as Error).message}`, { cause: e });
    }
    if (out.exitCode !== 0) {
      const tail = stderrTail(out.stderr);
      throw new Error(`${who} exited with code ${out.exitCode}${tail ? `: ${tail}` : ''}`);
    }
    const { credential, expiresAt } = parseExecCredential(out.stdout, apiVersion, who);
    this.#cached = { credential, expiresAt };
    return credential;
  }

  /** spec.cluster of KUBERNETES_EXEC_INFO (client-go's Cluster of the exec API). */
  async #clusterInfo(): Promise<Record<string, unknown>> {
    const c = this.#cluster;
    if (!c) return {};
    const ca = c.caData ?? (c.caFile ? (await readFile(c.caFile)).toString('base64') : undefined);
    return {
      server: c.server,
      'tls-server-name': c.tlsServerName,
      'insecure-skip-tls-verify': c.skipTLSVerify || undefined,
      'certificate-authority-data': ca,
      'proxy-url': c.proxyUrl,
    };
  }
}

/** Pure: the credential in an exec plugin's stdout, and until when it may be used. */
export function parseExecCredential(
  stdout: string,
  apiVersion: string,
  who: string,
): { credential: Credential; expiresAt?: number } {
  let obj: { apiVersion?: string; kind?: string; status?: ExecCredentialStatus };
  try {
    obj = JSON.parse(stdout);
  } catch {
    throw new Error(`${who} printed no ExecCredential JSON: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  if (obj?.kind !== 'ExecCredential')
    throw new Error(`${who} printed kind ${JSON.stringify(obj?.kind)}, not ExecCredential`);
  if (obj.apiVersion !== apiVersion)
    throw new Error(`${who} printed apiVersion ${obj.apiVersion}, but the kubeconfig asks for ${apiVersion}`);
  const s = obj.status ?? {};
  const credential: Credential = { headers: {} };
  if (s.clientCertificateData || s.clientKeyData) {
    if (!s.clientCertificateData || !s.clientKeyData)
      throw new Error(`${who} returned only one of status.clientCertificateData and status.clientKeyData`);
    credential.clientCert = { cert: s.clientCertificateData, key: s.clientKeyData };
  }
  if (s.token) credential.headers.authorization = `Bearer ${s.token}`;
  if (!s.token && !credential.clientCert)
    throw new Error(`${who} returned neither status.token nor a client certificate`);
  let expiresAt: number | undefined;
  if (s.expirationTimestamp) {
    expiresAt = Date.parse(s.expirationTimestamp);
    if (Number.isNaN(expiresAt))
      throw new Error(`${who} returned an unreadable expirationTimestamp ${s.expirationTimestamp}`);
  }
  return { credential, expiresAt };
}
