import type https from 'node:https';
import {
  AppsV1Api,
  type Cluster,
  CoreV1Api,
  CustomObjectsApi,
  type DispatcherOptions,
  KubeConfig,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
  type RequestContext,
} from '@kubernetes/client-node';
import { type RelaxedTlsCheck, relaxDispatcherOptions } from './tls.ts';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * A KubeConfig whose requests share one connection pool. client-node 2.0.1 builds a new undici Agent
 * in every applySecurityAuthentication call, so each request (typed APIs, KubernetesObjectApi,
 * watches, our raw requests) would open a fresh TCP+TLS connection and leave an agent for the GC:
 * measured here as 5x the propagation time and hundreds of MiB of native memory. One KubeConfig
 * holds one cluster and one identity, and new credentials mean a new KubeConfig, so one pool each.
 */
export class PooledKubeConfig extends KubeConfig {
  #dispatcher?: Dispatcher;
  /** TLS checks a KubeFedCluster's disabledTLSValidations turned off (src/kube/tls.ts). */
  #relaxed: ReadonlySet<RelaxedTlsCheck>;

  constructor(relaxedTlsChecks: Iterable<RelaxedTlsCheck> = []) {
    super();
    this.#relaxed = new Set(relaxedTlsChecks);
  }

  override createDispatcherOptions(
    cluster: Cluster | null,
    agentOptions: https.AgentOptions,
  ): DispatcherOptions {
    const opts = super.createDispatcherOptions(cluster, agentOptions);
    // skipTLSVerify (`*`) already turns every check off.
    if (cluster?.skipTLSVerify) return opts;
    return relaxDispatcherOptions(opts, this.#relaxed, cluster?.name ?? '');
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (!this.#dispatcher) {
      this.#dispatcher = fresh;
      return;
    }
    context.setDispatcher(this.#dispatcher);
    if (fresh && fresh !== this.#dispatcher) void fresh.close().catch(() => undefined);
  }
}

/** The API clients fedctl uses for one cluster, all built on that cluster's own KubeConfig. */
export interface ClusterClients {
  readonly name: string;
  readonly kc: KubeConfig;
  readonly objects: KubernetesObjectApi;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  readonly custom: CustomObjectsApi;
}

export function clientsFor(name: string, kc: KubeConfig): ClusterClients {
  return {
    name,
    kc,
    objects: KubernetesObjectApi.makeApiClient(kc),
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
  };
}

export interface KubeconfigSource {
  /** Path to a kubeconfig file; default: $KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string;
  /** Context to use; default: the file's current context. */
  context?: string;
}

/**
 * A KubeConfig holding exactly one context. Clients built on a shared KubeConfig follow later
 * setCurrentContext calls and would send one cluster's credentials to another, so every cluster
 * gets its own object.
 */
export function loadKubeConfig(source: KubeconfigSource = {}): KubeConfig {
  const all = new KubeConfig();
  if (source.kubeconfig) all.loadFromFile(source.kubeconfig);
  else all.loadFromDefault();
  const contextName = source.context ?? all.getCurrentContext();
  const context = all.getContextObject(contextName);
  if (!context) {
    const known = all
      .getContexts()
      .map((c) => c.name)
      .join(', ');
    throw new Error(`context "${contextName}" not found in kubeconfig (known: ${known || 'none'})`);
  }
  const cluster = all.getCluster(context.cluster);
  const user = all.getUser(context.user);
  if (!cluster)
    throw new Error(
      `context "${contextName}" names cluster "${context.cluster}", which is not in the kubeconfig`,
    );
  const kc = new PooledKubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: user ? [user] : [],
    contexts: [context],
    currentContext: context.name,
  });
  return kc;
}

export interface EndpointCredentials {
  name: string;
  server: string;
  /** PEM CA bundle, base64 encoded as in a kubeconfig or KubeFedCluster.spec.caBundle. */
  caData?: string;
  token: string;
  insecureSkipTLSVerify?: boolean;
  /** KubeFedCluster disabledTLSValidations other than `*`. */
  relaxedTlsChecks?: RelaxedTlsCheck[];
  proxyUrl?: string;
}

/** A KubeConfig for a member cluster as the host controller sees it: endpoint, CA and a bearer token. */
export function kubeConfigForEndpoint(c: EndpointCredentials): KubeConfig {
  const kc = new PooledKubeConfig(c.relaxedTlsChecks);
  kc.loadFromOptions({
    clusters: [
      {
        name: c.name,
        server: c.server,
        caData: c.caData || undefined,
        skipTLSVerify: c.insecureSkipTLSVerify ?? false,
        proxyUrl: c.proxyUrl || undefined,
      },
    ],
    users: [{ name: c.name, token: c.token }],
    contexts: [{ name: c.name, cluster: c.name, user: c.name }],
    currentContext: c.name,
  });
  return kc;
}

/** The server URL and CA bundle (base64) of a KubeConfig's current cluster. */
export function endpointOf(kc: KubeConfig): { server: string; caData?: string; skipTLSVerify: boolean } {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig context "${kc.getCurrentContext()}" has no cluster`);
  return { server: cluster.server, caData: cluster.caData, skipTLSVerify: cluster.skipTLSVerify };
}

/**
 * The same cluster and identity on a connection pool of its own: the leader lease's renewals must
 * never queue behind the controllers' bulk writes on a shared connection.
 */
export function withOwnConnections(kc: KubeConfig): KubeConfig {
  const copy = new PooledKubeConfig();
  copy.loadFromOptions({
    clusters: kc.clusters,
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.getCurrentContext(),
  });
  return copy;
}
