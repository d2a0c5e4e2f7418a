// Everything fedctl still takes from @kubernetes/client-node, in one module that is only ever loaded
// with `await import()`: the typed API clients of the CLI's join/unjoin/enable, and the legacy
// credentials fedctl does not implement itself (auth-provider: oidc, gcp, azure; socks proxies).
// Importing client-node costs ~90 MiB of RSS, so `fedctl controller` must never get here unless a
// kubeconfig really uses one of those.

import type https from 'node:https';
import {
  AppsV1Api,
  type Cluster as ClientNodeCluster,
  type DispatcherOptions as ClientNodeDispatcherOptions,
  KubeConfig as ClientNodeKubeConfig,
  CoreV1Api,
  CustomObjectsApi,
  type HttpMethod,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
  RequestContext,
} from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';
import type { KubeConfig, User } from './kubeconfig.ts';
import { type DispatcherOptions, type RelaxedTlsCheck, relaxDispatcherOptions } from './tls.ts';

/** client-node's KubeConfig with a KubeFedCluster's relaxed TLS checks applied to its connections. */
class RelaxedKubeConfig extends ClientNodeKubeConfig {
  readonly #relaxed: ReadonlySet<RelaxedTlsCheck>;
  constructor(relaxed: readonly RelaxedTlsCheck[] = []) {
    super();
    this.#relaxed = new Set(relaxed);
  }
  override createDispatcherOptions(
    cluster: ClientNodeCluster | null,
    agentOptions: https.AgentOptions,
  ): ClientNodeDispatcherOptions {
    const opts = super.createDispatcherOptions(cluster, agentOptions);
    if (cluster?.skipTLSVerify) return opts;
    return relaxDispatcherOptions(
      opts as DispatcherOptions,
      this.#relaxed,
      cluster?.name ?? '',
    ) as ClientNodeDispatcherOptions;
  }
}

const converted = new WeakMap<KubeConfig, ClientNodeKubeConfig>();

/** The same clusters, users and contexts as a client-node KubeConfig (one per fedctl KubeConfig). */
export function toClientNodeConfig(kc: KubeConfig): ClientNodeKubeConfig {
  if (kc instanceof ClientNodeKubeConfig) return kc;
  const known = converted.get(kc);
  if (known) return known;
  const out = new RelaxedKubeConfig(kc.relaxedTlsChecks);
  out.loadFromOptions({
    clusters: kc.clusters.map((c) => ({ ...c })),
    // client-node reads a token file only as its in-cluster auth provider.
    users: kc.users.map((u: User) =>
      u.tokenFile && !u.exec && !u.authProvider
        ? { ...u, authProvider: { name: 'tokenFile', config: { tokenFile: u.tokenFile } } }
        : { ...u },
    ),
    contexts: kc.contexts.map((c) => ({ ...c, user: c.user || undefined })),
    currentContext: kc.getCurrentContext(),
  });
  converted.set(kc, out);
  return out;
}

export interface TypedApis {
  readonly objects: KubernetesObjectApi;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  readonly custom: CustomObjectsApi;
}

export function typedApis(kc: KubeConfig): TypedApis {
  const ckc = toClientNodeConfig(kc);
  return {
    objects: KubernetesObjectApi.makeApiClient(ckc),
    core: ckc.makeApiClient(CoreV1Api),
    apps: ckc.makeApiClient(AppsV1Api),
    rbac: ckc.makeApiClient(RbacAuthorizationV1Api),
    custom: ckc.makeApiClient(CustomObjectsApi),
  };
}

async function authenticated(kc: KubeConfig): Promise<RequestContext> {
  const ctx = new RequestContext('http://unused/', 'GET' as HttpMethod);
  await toClientNodeConfig(kc).applySecurityAuthentication(ctx);
  return ctx;
}

/** An auth-provider user's headers for the next request (client-node refreshes its tokens). */
export async function authProviderHeaders(kc: KubeConfig): Promise<Record<string, string>> {
  const ctx = await authenticated(kc);
  // client-node builds a new connection pool on every call; only the headers are wanted here.
  void ctx
    .getDispatcher()
    ?.close()
    .catch(() => undefined);
  return ctx.getHeaders();
}

/** A connection pool through the cluster's socks proxy (client-node's socks connector). */
export async function socksDispatcher(kc: KubeConfig): Promise<Dispatcher> {
  const dispatcher = (await authenticated(kc)).getDispatcher();
  if (!dispatcher) throw new Error(`cluster "${kc.getCurrentCluster()?.name}": no socks dispatcher`);
  return dispatcher as unknown as Dispatcher;
}
