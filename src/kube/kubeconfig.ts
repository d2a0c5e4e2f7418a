// fedctl's kubeconfig: the clusters, users and contexts of kubeconfig files (or of the pod's service
// account), with the field names client-node uses, so code written against client-node's KubeConfig
// reads it unchanged and a client-node KubeConfig can be passed wherever fedctl takes one (its public
// surface is a subset of client-node's: no private members, which would make the type nominal). Loading only: credentials and TLS are applied by the HTTP
// layer (transport.ts, credentials.ts), which reads nothing but getCurrentCluster/User/Context.
//
// Why not client-node's: importing it costs ~90 MiB of RSS and ~35 MiB of V8 heap (every generated
// API and model), for what is a YAML file and a dozen fields here.
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { RelaxedTlsCheck } from './tls.ts';

export interface Cluster {
  readonly name: string;
  /** API server URL, without a trailing slash. */
  readonly server: string;
  /** PEM CA bundle, base64 (certificate-authority-data). */
  readonly caData?: string;
  /** Path of a PEM CA bundle (certificate-authority), absolute once loaded. */
  caFile?: string;
  /** insecure-skip-tls-verify */
  readonly skipTLSVerify: boolean;
  /** tls-server-name: the name the server certificate is checked against (and SNI). */
  readonly tlsServerName?: string;
  /** proxy-url: http(s) or socks5. */
  readonly proxyUrl?: string;
}

/** A client-go exec credential plugin (users[].user.exec). */
export interface ExecConfig {
  /** client.authentication.k8s.io/v1 or v1beta1 */
  readonly apiVersion?: string;
  readonly command: string;
  readonly args?: readonly string[] | null;
  readonly env?: ReadonlyArray<{ name: string; value: string }> | null;
  /** Shown when the command is not found. */
  readonly installHint?: string;
  /** Pass the cluster's endpoint and CA to the plugin in KUBERNETES_EXEC_INFO. */
  readonly provideClusterInfo?: boolean;
  /** Never | IfAvailable | Always; fedctl never has a terminal for the plugin, so Always fails. */
  readonly interactiveMode?: string;
}

export interface User {
  readonly name: string;
  readonly token?: string;
  /** token-file: re-read periodically (rotated service-account tokens). */
  readonly tokenFile?: string;
  readonly certData?: string;
  certFile?: string;
  readonly keyData?: string;
  keyFile?: string;
  readonly username?: string;
  readonly password?: string;
  readonly exec?: ExecConfig;
  /** auth-provider (oidc, gcp, azure): legacy, served by client-node when used. */
  readonly authProvider?: { name?: string; config?: Record<string, string> };
  /** as: the user to impersonate. */
  readonly impersonateUser?: string;
}

export interface Context {
  readonly name: string;
  readonly cluster: string;
  /** Empty or absent: no credentials. */
  readonly user: string;
  readonly namespace?: string;
}

export interface KubeConfigParts {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string;
}

const SERVICEACCOUNT_ROOT = '/var/run/secrets/kubernetes.io/serviceaccount';

export class KubeConfig {
  clusters: Cluster[] = [];
  users: User[] = [];
  contexts: Context[] = [];
  currentContext = '';
  /** Where it was loaded from (files, or "in-cluster"), for messages. */
  source?: string;
  /** TLS checks a KubeFedCluster's disabledTLSValidations turned off (tls.ts). */
  readonly relaxedTlsChecks?: readonly RelaxedTlsCheck[];

  constructor(opts: { relaxedTlsChecks?: readonly RelaxedTlsCheck[] } = {}) {
    if (opts.relaxedTlsChecks?.length) this.relaxedTlsChecks = [...opts.relaxedTlsChecks];
  }

  getContexts(): Context[] {
    return this.contexts;
  }
  getClusters(): Cluster[] {
    return this.clusters;
  }
  getUsers(): User[] {
    return this.users;
  }
  getCurrentContext(): string {
    return this.currentContext;
  }
  setCurrentContext(name: string): void {
    this.currentContext = name;
  }
  getContextObject(name: string): Context | null {
    return this.contexts.find((c) => c.name === name) ?? null;
  }
  getCluster(name: string): Cluster | null {
    return this.clusters.find((c) => c.name === name) ?? null;
  }
  getUser(name: string): User | null {
    return this.users.find((u) => u.name === name) ?? null;
  }
  getCurrentCluster(): Cluster | null {
    const ctx = this.getContextObject(this.currentContext);
    return ctx ? this.getCluster(ctx.cluster) : null;
  }
  getCurrentUser(): User | null {
    const ctx = this.getContextObject(this.currentContext);
    return ctx?.user ? this.getUser(ctx.user) : null;
  }

  loadFromOptions(o: {
    clusters: readonly Cluster[];
    users: readonly User[];
    contexts: readonly Context[];
    currentContext?: string;
  }): void {
    this.clusters = [...o.clusters];
    this.users = [...o.users];
    this.contexts = [...o.contexts];
    this.currentContext = o.currentContext ?? '';
  }

  /** One kubeconfig file; relative paths in it are relative to its folder. */
  loadFromFile(file: string): void {
    this.loadFromOptions(readKubeconfigFile(file));
    this.source = file;
  }

  /** kubectl's order: $KUBECONFIG (merged), ~/.kube/config, then the pod's service account. */
  loadFromDefault(): void {
    const found = defaultKubeconfig();
    this.loadFromOptions(found.parts);
    this.source = found.source;
  }

  /** The pod's service account (KUBERNETES_SERVICE_HOST/PORT, its token and CA). */
  loadFromCluster(pathPrefix = ''): void {
    this.loadFromOptions(inClusterConfig(process.env, `${pathPrefix}${SERVICEACCOUNT_ROOT}`));
    this.source = 'in-cluster';
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

type Raw = Record<string, unknown>;
const isMap = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

/** Reads and parses one kubeconfig file. */
export function readKubeconfigFile(file: string): KubeConfigParts {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new KubeconfigError(
      `cannot read kubeconfig ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  return parseKubeconfig(text, file);
}

/**
 * Pure: the clusters, users and contexts of one kubeconfig's text. `file` names it in errors and
 * anchors its relative paths (certificate-authority, client-certificate, client-key, token-file, an
 * exec command with a slash), as kubectl does.
 */
export function parseKubeconfig(text: string, file: string): KubeConfigParts {
  let doc: unknown;
  try {
    // YAML 1.2, as client-node's js-yaml read it before: `yes`/`on` stay strings.
    doc = parseYaml(text, { version: '1.2' });
  } catch (e) {
    throw new KubeconfigError(`kubeconfig ${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isMap(doc)) throw new KubeconfigError(`kubeconfig ${file} is not a kubeconfig (not a YAML mapping)`);
  const dir = dirname(resolve(file));
  const where = (list: string, i: number, name?: unknown) =>
    `kubeconfig ${file}: ${list}[${i}]${typeof name === 'string' && name ? ` ("${name}")` : ''}`;
  const path = (v: unknown, what: string) => {
    const s = str(v, what);
    return s === undefined ? undefined : isAbsolute(s) ? s : join(dir, s);
  };
  const str = (v: unknown, what: string): string | undefined => {
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') throw new KubeconfigError(`${what} must be a string`);
    return v;
  };
  const list = (key: string): Raw[] => {
    const v = doc[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new KubeconfigError(`kubeconfig ${file}: ${key} must be a list`);
    return v.map((e, i) => {
      if (!isMap(e)) throw new KubeconfigError(`${where(key, i)} is not a mapping`);
      if (typeof e.name !== 'string' || e.name === '')
        throw new KubeconfigError(`${where(key, i)} has no name`);
      return e;
    });
  };
  const body = (e: Raw, key: string, what: string, required: boolean): Raw => {
    const v = e[key];
    if (v === undefined || v === null) {
      if (required) throw new KubeconfigError(`${what} has no ${key}`);
      return {};
    }
    if (!isMap(v)) throw new KubeconfigError(`${what}.${key} is not a mapping`);
    return v;
  };

  const clusters = list('clusters').map((e, i): Cluster => {
    const what = where('clusters', i, e.name);
    const c = body(e, 'cluster', what, true);
    const server = str(c.server, `${what}: cluster.server`);
    if (!server) throw new KubeconfigError(`${what} has no cluster.server`);
    return drop({
      name: e.name as string,
      server: server.replace(/\/+$/, ''),
      caData: str(c['certificate-authority-data'], `${what}: certificate-authority-data`),
      caFile: path(c['certificate-authority'], `${what}: certificate-authority`),
      skipTLSVerify: c['insecure-skip-tls-verify'] === true,
      tlsServerName: str(c['tls-server-name'], `${what}: tls-server-name`),
      proxyUrl: str(c['proxy-url'], `${what}: proxy-url`),
    });
  });

  const users = list('users').map((e, i): User => {
    const what = where('users', i, e.name);
    const u = body(e, 'user', what, false);
    let exec: ExecConfig | undefined;
    if (u.exec !== undefined && u.exec !== null) {
      const x = body(u, 'exec', what, true);
      const command = str(x.command, `${what}: exec.command`);
      if (!command) throw new KubeconfigError(`${what} has an exec plugin without command`);
      const args = x.args ?? [];
      if (!Array.isArray(args) || args.some((a) => typeof a !== 'string'))
        throw new KubeconfigError(`${what}: exec.args must be a list of strings`);
      const env = x.env ?? [];
      if (!Array.isArray(env) || env.some((v) => !isMap(v) || typeof v.name !== 'string'))
        throw new KubeconfigError(`${what}: exec.env must be a list of {name, value}`);
      exec = drop({
        apiVersion: str(x.apiVersion, `${what}: exec.apiVersion`),
        // kubectl resolves a command with a slash against the kubeconfig's folder; a bare name is
        // looked up on PATH.
        command: command.includes('/') && !isAbsolute(command) ? join(dir, command) : command,
        args: args as string[],
        env: (env as Raw[]).map((v) => ({ name: v.name as string, value: String(v.value ?? '') })),
        installHint: str(x.installHint, `${what}: exec.installHint`),
        provideClusterInfo: x.provideClusterInfo === true,
        interactiveMode: str(x.interactiveMode, `${what}: exec.interactiveMode`),
      });
    }
    const provider = u['auth-provider'];
    if (provider !== undefined && provider !== null && !isMap(provider))
      throw new KubeconfigError(`${what}.auth-provider is not a mapping`);
    return drop({
      name: e.name as string,
      token: str(u.token, `${what}: token`),
      tokenFile: path(u['token-file'], `${what}: token-file`),
      certData: str(u['client-certificate-data'], `${what}: client-certificate-data`),
      certFile: path(u['client-certificate'], `${what}: client-certificate`),
      keyData: str(u['client-key-data'], `${what}: client-key-data`),
      keyFile: path(u['client-key'], `${what}: client-key`),
      username: str(u.username, `${what}: username`),
      password: str(u.password, `${what}: password`),
      exec,
      authProvider: provider as User['authProvider'],
      impersonateUser: str(u.as, `${what}: as`),
    });
  });

  const contexts = list('contexts').map((e, i): Context => {
    const what = where('contexts', i, e.name);
    const c = body(e, 'context', what, true);
    const cluster = str(c.cluster, `${what}: context.cluster`);
    if (!cluster) throw new KubeconfigError(`${what} has no context.cluster`);
    return drop({
      name: e.name as string,
      cluster,
      user: str(c.user, `${what}: context.user`) ?? '',
      namespace: str(c.namespace, `${what}: context.namespace`),
    });
  });

  for (const [kind, entries] of [
    ['clusters', clusters],
    ['users', users],
    ['contexts', contexts],
  ] as const) {
    const seen = new Set<string>();
    for (const { name } of entries) {
      if (seen.has(name)) throw new KubeconfigError(`kubeconfig ${file}: two ${kind} are named "${name}"`);
      seen.add(name);
    }
  }
  return {
    clusters,
    users,
    contexts,
    currentContext: str(doc['current-context'], `kubeconfig ${file}: current-context`) ?? '',
  };
}

/** The object without its undefined fields (so copies and comparisons see only what was set). */
function drop<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * kubectl's merge of several kubeconfigs ($KUBECONFIG): the first file that defines a cluster, user
 * or context name wins, and so does the first non-empty current-context.
 */
export function mergeKubeconfigs(parts: readonly KubeConfigParts[]): KubeConfigParts {
  const out: KubeConfigParts = { clusters: [], users: [], contexts: [], currentContext: '' };
  for (const p of parts) {
    const add = <T extends { name: string }>(into: T[], from: readonly T[]) => {
      for (const e of from) if (!into.some((x) => x.name === e.name)) into.push(e);
    };
    add(out.clusters, p.clusters);
    add(out.users, p.users);
    add(out.contexts, p.contexts);
    out.currentContext ||= p.currentContext;
  }
  return out;
}

export interface DefaultSources {
  env?: NodeJS.ProcessEnv;
  home?: string;
  serviceAccountDir?: string;
}

/**
 * Where kubectl would look, in its order: every existing file of $KUBECONFIG (merged; missing ones
 * are skipped), else ~/.kube/config, else the pod's service account. Throws when none is there.
 */
export function defaultKubeconfig(o: DefaultSources = {}): { parts: KubeConfigParts; source: string } {
  const env = o.env ?? process.env;
  if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f !== '');
    const present = files.filter((f) => existsSync(f));
    if (present.length === 0)
      throw new KubeconfigError(`none of the files in KUBECONFIG exists (${files.join(delimiter)})`);
    return { parts: mergeKubeconfigs(present.map(readKubeconfigFile)), source: present.join(delimiter) };
  }
  const home = join(o.home ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return { parts: readKubeconfigFile(home), source: home };
  const saDir = o.serviceAccountDir ?? SERVICEACCOUNT_ROOT;
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && existsSync(join(saDir, 'token')))
    return { parts: inClusterConfig(env, saDir), source: 'in-cluster' };
  throw new KubeconfigError(
    `no kubeconfig found: ${home} does not exist, KUBECONFIG is not set and this is not a pod with a service account`,
  );
}

/**
 * The pod's own identity, as client-go's rest.InClusterConfig: the API server from
 * KUBERNETES_SERVICE_HOST/PORT, the service account's CA, and its token file (projected tokens
 * rotate, so the transport re-reads it).
 */
export function inClusterConfig(env: NodeJS.ProcessEnv, serviceAccountDir: string): KubeConfigParts {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port)
    throw new KubeconfigError(
      'not in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set',
    );
  const tokenFile = join(serviceAccountDir, 'token');
  if (!existsSync(tokenFile))
    throw new KubeconfigError(`in-cluster configuration: no service account token at ${tokenFile}`);
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(serviceAccountDir, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    // No namespace file: the context names none.
  }
  // client-node's names, kept so logs and context names read as before.
  return {
    clusters: [
      {
        name: 'inCluster',
        server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
        caFile: join(serviceAccountDir, 'ca.crt'),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: 'inClusterUser', tokenFile }],
    contexts: [drop({ name: 'inClusterContext', cluster: 'inCluster', user: 'inClusterUser', namespace })],
    currentContext: 'inClusterContext',
  };
}
