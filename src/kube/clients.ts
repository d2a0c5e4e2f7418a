// One KubeConfig per cluster, and what fedctl reaches a cluster with: its name and KubeConfig (every
// request goes through transport.ts). The typed client-node APIs only the CLI's join/unjoin/enable
// still use are built on demand by typedClients, which loads client-node then and only then.
import type {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { KubeConfig } from './kubeconfig.ts';
import type { RelaxedTlsCheck } from './tls.ts';

/** How fedctl reaches one cluster: its name and its own KubeConfig (one cluster, one identity). */
export interface ClusterClients {
  readonly name: string;
  readonly kc: KubeConfig;
}

/** ClusterClients plus client-node's typed APIs, built on the same cluster and identity. */
export interface TypedClients extends ClusterClients {
  readonly objects: KubernetesObjectApi;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  readonly custom: CustomObjectsApi;
}

export function clientsFor(name: string, kc: KubeConfig): ClusterClients {
  return { name, kc };
}

const typed = new WeakMap<KubeConfig, TypedClients>();

/**
 * The typed client-node APIs for a cluster (loads @kubernetes/client-node on first use: ~90 MiB, so
 * only CLI commands that need them call this). Clients that already carry them are returned as they
 * are (the in-memory fakes of tests).
 */
export async function typedClients(c: ClusterClients): Promise<TypedClients> {
  if ('core' in c && 'objects' in c) return c as TypedClients;
  const known = typed.get(c.kc);
  if (known && known.name === c.name) return known;
  const { typedApis } = await import('./client-node-bridge.ts');
  const out: TypedClients = { name: c.name, kc: c.kc, ...typedApis(c.kc) };
  typed.set(c.kc, out);
  return out;
}

export interface KubeconfigSource {
  /** Path to a kubeconfig file; default: $KUBECONFIG or ~/.kube/config, else in-cluster. */
  kubeconfig?: string;
  /** Context to use; default: the file's current context. */
  context?: string;
}

/**
 * A KubeConfig holding exactly one context, its cluster and its user. Each cluster gets its own
 * object (and so its own connection pool and credentials): nothing can send one cluster's
 * credentials to another.
 */
export function loadKubeConfig(source: KubeconfigSource = {}): KubeConfig {
  const all = new KubeConfig();
  if (source.kubeconfig) all.loadFromFile(source.kubeconfig);
  else all.loadFromDefault();
  const where = all.source ?? 'the kubeconfig';
  const contextName = source.context ?? all.getCurrentContext();
  if (!contextName)
    throw new Error(
      `kubeconfig ${where} has no current-context; name a context (--host-cluster-context, --cluster-context)`,
    );
  const context = all.getContextObject(contextName);
  if (!context) {
    const known = all
      .getContexts()
      .map((c) => c.name)
      .join(', ');
    throw new Error(`context "${contextName}" not found in kubeconfig ${where} (known: ${known || 'none'})`);
  }
  const cluster = all.getCluster(context.cluster);
  if (!cluster)
    throw new Error(
      `context "${contextName}" names cluster "${context.cluster}", which is not in kubeconfig ${where}`,
    );
  const user = context.user ? all.getUser(context.user) : null;
  if (context.user && !user)
    throw new Error(
      `context "${contextName}" names user "${context.user}", which is not in kubeconfig ${where}`,
    );
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: user ? [user] : [],
    contexts: [context],
    currentContext: context.name,
  });
  kc.source = all.source;
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
  const kc = new KubeConfig({ relaxedTlsChecks: c.relaxedTlsChecks });
  kc.loadFromOptions({
    clusters: [
      {
        name: c.name,
        server: c.server.replace(/\/+$/, ''),
        ...(c.caData ? { caData: c.caData } : {}),
        skipTLSVerify: c.insecureSkipTLSVerify ?? false,
        ...(c.proxyUrl ? { proxyUrl: c.proxyUrl } : {}),
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
 * The same cluster and identity on a connection pool of its own (the transport keeps one pool per
 * KubeConfig object): the leader lease's renewals must never queue behind the controllers' bulk
 * writes on a shared connection.
 */
export function withOwnConnections(kc: KubeConfig): KubeConfig {
  const copy = new KubeConfig({ relaxedTlsChecks: kc.relaxedTlsChecks });
  copy.loadFromOptions({
    clusters: kc.clusters,
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.getCurrentContext(),
  });
  copy.source = kc.source;
  return copy;
}
