import { parse, stringify } from 'yaml';

// Kubeconfig documents as plain data: built for local clusters, merged for kind. Pure.

export interface KubeconfigCluster {
  name: string;
  cluster: { server: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean };
}
export interface KubeconfigUser {
  name: string;
  user: { 'client-certificate-data'?: string; 'client-key-data'?: string; token?: string };
}
export interface KubeconfigContext {
  name: string;
  context: { cluster: string; user: string; namespace?: string };
}
export interface Kubeconfig {
  apiVersion: 'v1';
  kind: 'Config';
  preferences: Record<string, never>;
  'current-context': string;
  clusters: KubeconfigCluster[];
  users: KubeconfigUser[];
  contexts: KubeconfigContext[];
}

export interface ClusterCredentials {
  /** Becomes the context, cluster and (with an -admin suffix) user name. */
  name: string;
  server: string;
  caData: string;
  certData: string;
  keyData: string;
}

/** One kubeconfig with a context per cluster; context name = cluster name. */
export function buildKubeconfig(clusters: readonly ClusterCredentials[], current?: string): Kubeconfig {
  if (clusters.length === 0) throw new Error('a kubeconfig needs at least one cluster');
  const names = new Set<string>();
  for (const c of clusters) {
    if (names.has(c.name)) throw new Error(`duplicate cluster name "${c.name}" in kubeconfig`);
    names.add(c.name);
  }
  const cur = current ?? clusters[0]!.name;
  if (!names.has(cur)) throw new Error(`current context "${cur}" is not one of the clusters`);
  return {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    'current-context': cur,
    clusters: clusters.map((c) => ({
      name: c.name,
      cluster: { server: c.server, 'certificate-authority-data': c.caData },
    })),
    users: clusters.map((c) => ({
      name: `${c.name}-admin`,
      user: { 'client-certificate-data': c.certData, 'client-key-data': c.keyData },
    })),
    contexts: clusters.map((c) => ({ name: c.name, context: { cluster: c.name, user: `${c.name}-admin` } })),
  };
}

export const renderKubeconfig = (k: Kubeconfig): string => stringify(k, { lineWidth: 0 });

export interface SourceKubeconfig {
  /** The name the cluster should have in the merged file. */
  clusterName: string;
  /** Kubeconfig text as written by the provider (e.g. kind, with context kind-<name>). */
  text: string;
  /** Context to take from it; default: its current-context. */
  context?: string;
}

export interface MergeOptions {
  /** Rewrites a server URL (e.g. to the address reachable from where the controller runs). */
  rewriteServer?: (clusterName: string, server: string) => string;
  current?: string;
}

function asArray<T>(v: unknown, what: string): T[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`kubeconfig field "${what}" is not a list`);
  return v as T[];
}

/**
 * Merges single-cluster kubeconfigs into one, renaming each source's context, cluster and user to
 * the target cluster name (user: <name>-admin) so entries from different files never collide.
 */
export function mergeKubeconfigs(sources: readonly SourceKubeconfig[], opts: MergeOptions = {}): Kubeconfig {
  if (sources.length === 0) throw new Error('nothing to merge: no kubeconfigs given');
  const out: Kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    'current-context': '',
    clusters: [],
    users: [],
    contexts: [],
  };
  const seen = new Set<string>();
  for (const src of sources) {
    const where = `kubeconfig of ${src.clusterName}`;
    if (seen.has(src.clusterName)) throw new Error(`duplicate cluster name "${src.clusterName}" in merge`);
    seen.add(src.clusterName);
    const doc = parse(src.text) as Record<string, unknown> | null;
    if (!doc || typeof doc !== 'object') throw new Error(`${where} is empty or not YAML`);
    const contexts = asArray<KubeconfigContext>(doc.contexts, 'contexts');
    const clusters = asArray<KubeconfigCluster>(doc.clusters, 'clusters');
    const users = asArray<KubeconfigUser>(doc.users, 'users');
    const ctxName = src.context ?? (doc['current-context'] as string | undefined);
    const ctx = contexts.find((c) => c.name === ctxName);
    if (!ctx) throw new Error(`${where}: context "${ctxName ?? ''}" not found`);
    const cluster = clusters.find((c) => c.name === ctx.context.cluster);
    if (!cluster)
      throw new Error(`${where}: cluster "${ctx.context.cluster}" of context "${ctxName}" not found`);
    const user = users.find((u) => u.name === ctx.context.user);
    if (!user) throw new Error(`${where}: user "${ctx.context.user}" of context "${ctxName}" not found`);
    const server = opts.rewriteServer
      ? opts.rewriteServer(src.clusterName, cluster.cluster.server)
      : cluster.cluster.server;
    out.clusters.push({ name: src.clusterName, cluster: { ...cluster.cluster, server } });
    out.users.push({ name: `${src.clusterName}-admin`, user: { ...user.user } });
    out.contexts.push({
      name: src.clusterName,
      context: { ...ctx.context, cluster: src.clusterName, user: `${src.clusterName}-admin` },
    });
  }
  const cur = opts.current ?? sources[0]!.clusterName;
  if (!seen.has(cur)) throw new Error(`current context "${cur}" is not one of the merged clusters`);
  out['current-context'] = cur;
  return out;
}

/** A copy of `k` holding only one context (and its cluster and user), made current. */
export function singleContext(k: Kubeconfig, context: string): Kubeconfig {
  const ctx = k.contexts.find((c) => c.name === context);
  if (!ctx) throw new Error(`context "${context}" not found`);
  return {
    ...k,
    'current-context': context,
    contexts: [ctx],
    clusters: k.clusters.filter((c) => c.name === ctx.context.cluster),
    users: k.users.filter((u) => u.name === ctx.context.user),
  };
}
