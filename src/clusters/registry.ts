import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { ClusterConfigReason, ConditionType, isConditionTrue, type Problem } from '../api/conditions.ts';
import type { KubeFedCluster } from '../api/types.ts';
import { type ClusterClients, clientsFor, kubeConfigForEndpoint } from '../kube/clients.ts';
import { SupervisedInformer } from '../kube/informer.ts';
import type { Logger } from '../kube/logger.ts';
import { KUBEFEDCLUSTER_REF, SECRET_REF } from '../kube/refs.ts';
import { listResource } from '../kube/resources.ts';

/** A joined member cluster as the host controller sees it. */
export interface Member {
  name: string;
  labels: Record<string, string>;
  cluster: KubeFedCluster;
  /** Clients authenticated with the member's token; absent when the configuration is malformed. */
  clients?: ClusterClients;
  /** Why no clients could be built (secret missing, no token, bad endpoint). */
  configError?: Problem<ClusterConfigReason>;
}

/**
 * Members of the federation, built from the KubeFedClusters and their token Secrets in the host's
 * federation namespace. Clients are rebuilt only when the endpoint, CA or token changes (status
 * updates from the health prober must not churn connections).
 */
export class ClusterRegistry {
  readonly #host: ClusterClients;
  readonly #clusters: SupervisedInformer<KubeFedCluster & KubernetesObject>;
  readonly #secrets: SupervisedInformer<V1Secret & KubernetesObject>;
  readonly #built = new Map<string, { fingerprint: string; clients: ClusterClients }>();
  readonly #listeners: Array<(name: string) => void> = [];
  /** members() as last computed; every reconcile asks, so it is rebuilt only when a cluster or secret changes. */
  #members?: Member[];

  constructor(opts: { host: ClusterClients; namespace: string; log: Logger }) {
    this.#host = opts.host;
    this.#clusters = new SupervisedInformer({
      name: `${opts.host.name}/kubefedclusters`,
      kc: opts.host.kc,
      ref: KUBEFEDCLUSTER_REF,
      namespace: opts.namespace,
      logger: opts.log,
    });
    this.#secrets = new SupervisedInformer({
      name: `${opts.host.name}/secrets`,
      kc: opts.host.kc,
      ref: SECRET_REF,
      namespace: opts.namespace,
      logger: opts.log,
    });
    const emitCluster = (obj: KubernetesObject) => this.#emit(obj.metadata?.name ?? '');
    for (const ev of ['add', 'update', 'delete'] as const) this.#clusters.on(ev, emitCluster);
    // A secret change affects every cluster that references it.
    const emitSecret = (obj: KubernetesObject) => {
      for (const c of this.#clusters.list()) {
        if (c.spec?.secretRef?.name === obj.metadata?.name) this.#emit(c.metadata?.name ?? '');
      }
    };
    for (const ev of ['add', 'update', 'delete'] as const) this.#secrets.on(ev, emitSecret);
  }

  get host(): ClusterClients {
    return this.#host;
  }

  async start(): Promise<void> {
    await Promise.all([this.#secrets.start(), this.#clusters.start()]);
  }

  stop(): void {
    this.#clusters.stop();
    this.#secrets.stop();
  }

  /** Called with a cluster name whenever its KubeFedCluster or Secret changes. */
  onChange(listener: (name: string) => void): void {
    this.#listeners.push(listener);
  }

  members(): Member[] {
    this.#members ??= this.#clusters
      .list()
      .map((c) => this.#member(c))
      .sort((a, b) => a.name.localeCompare(b.name));
    return [...this.#members];
  }

  member(name: string): Member | undefined {
    const c = this.#clusters.list().find((x) => x.metadata?.name === name);
    return c ? this.#member(c) : undefined;
  }

  #emit(name: string): void {
    this.#members = undefined;
    for (const l of this.#listeners) l(name);
  }

  #member(cluster: KubeFedCluster & KubernetesObject): Member {
    const base = memberBase(cluster);
    const { name } = base;
    const built = buildClients(cluster, (secretName) =>
      this.#secrets.get(secretName, cluster.metadata?.namespace),
    );
    if ('error' in built) {
      this.#built.delete(name);
      return { ...base, configError: built.error };
    }
    const previous = this.#built.get(name);
    if (previous?.fingerprint === built.fingerprint) return { ...base, clients: previous.clients };
    const clients = clientsFor(name, kubeConfigForEndpoint(built.credentials));
    this.#built.set(name, { fingerprint: built.fingerprint, clients });
    return { ...base, clients };
  }
}

type Built =
  | { error: Problem<ClusterConfigReason> }
  | { fingerprint: string; credentials: Parameters<typeof kubeConfigForEndpoint>[0] };

/** Pure: the credentials for a member from its KubeFedCluster and token Secret, or why not. */
export function buildClients(
  cluster: KubeFedCluster & KubernetesObject,
  secret: (name: string) => V1Secret | undefined,
): Built {
  const name = cluster.metadata?.name ?? '';
  const spec = cluster.spec;
  if (!spec?.apiEndpoint)
    return {
      error: {
        reason: ClusterConfigReason.MissingAPIEndpoint,
        message: `KubeFedCluster ${name} has no spec.apiEndpoint`,
      },
    };
  try {
    const url = new URL(spec.apiEndpoint);
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new Error(`unsupported scheme ${url.protocol}`);
  } catch (e) {
    return {
      error: {
        reason: ClusterConfigReason.InvalidAPIEndpoint,
        message: `KubeFedCluster ${name}: spec.apiEndpoint "${spec.apiEndpoint}" is not a URL (${(e as Error).message})`,
      },
    };
  }
  const secretName = spec.secretRef?.name;
  if (!secretName)
    return {
      error: {
        reason: ClusterConfigReason.MissingSecretRef,
        message: `KubeFedCluster ${name} has no spec.secretRef.name`,
      },
    };
  const s = secret(secretName);
  if (!s)
    return {
      error: {
        reason: ClusterConfigReason.SecretNotFound,
        message: `secret ${secretName} for cluster ${name} not found`,
      },
    };
  const tokenB64 = s.data?.token;
  if (!tokenB64)
    return {
      error: {
        reason: ClusterConfigReason.TokenNotFound,
        message: `secret ${secretName} for cluster ${name} has no "token" key`,
      },
    };
  const token = Buffer.from(tokenB64, 'base64').toString('utf8').trim();
  const caData = spec.caBundle || undefined;
  if (caData && !Buffer.from(caData, 'base64').toString('utf8').includes('BEGIN CERTIFICATE')) {
    return {
      error: {
        reason: ClusterConfigReason.InvalidCABundle,
        message: `KubeFedCluster ${name}: spec.caBundle is not a base64 PEM certificate bundle`,
      },
    };
  }
  const disabled = spec.disabledTLSValidations ?? [];
  const insecure = disabled.includes('*');
  const relaxed = insecure
    ? []
    : (['SubjectName', 'ValidityPeriod'] as const).filter((check) => disabled.includes(check));
  const credentials = {
    name,
    server: spec.apiEndpoint,
    caData,
    token,
    insecureSkipTLSVerify: insecure,
    ...(relaxed.length > 0 ? { relaxedTlsChecks: [...relaxed] } : {}),
    proxyUrl: spec.proxyURL,
  };
  return { fingerprint: JSON.stringify(credentials), credentials };
}

/**
 * What a Member is apart from its clients: name, labels, the KubeFedCluster. Whether a member is the
 * host is never judged by its URL (in-cluster the controller sees another address than the one joined);
 * where it matters (a member's copy of the host's own namespace) objects are compared by UID.
 */
function memberBase(cluster: KubeFedCluster & KubernetesObject) {
  return {
    name: cluster.metadata?.name ?? '',
    labels: { ...(cluster.metadata?.labels ?? {}) },
    cluster,
  };
}

/**
 * Members read once from the host (for one-shot CLI commands; the controller uses ClusterRegistry).
 * Ready is what the health prober last wrote into the KubeFedCluster's status.
 */
export async function loadMembers(
  host: ClusterClients,
  namespace: string,
): Promise<Array<Member & { ready: boolean }>> {
  const [clusters, secrets] = await Promise.all([
    listResource(host.kc, KUBEFEDCLUSTER_REF, { namespace }),
    listResource(host.kc, SECRET_REF, { namespace }),
  ]);
  return (clusters.items as unknown as Array<KubeFedCluster & KubernetesObject>)
    .map((cluster) => {
      const built = buildClients(
        cluster,
        (s) => secrets.items.find((x) => x.metadata?.name === s) as V1Secret | undefined,
      );
      const ready = isConditionTrue(cluster.status?.conditions, ConditionType.Ready);
      const base = { ...memberBase(cluster), ready };
      return 'error' in built
        ? { ...base, configError: built.error }
        : { ...base, clients: clientsFor(base.name, kubeConfigForEndpoint(built.credentials)) };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
