// `fedctl get clusters`: the KubeFedClusters in the host, as `kubectl get kubefedclusters` shows them.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { ConditionType, findCondition } from '../api/conditions.ts';
import type { FederatedStatus, FederatedTypeConfig, KubeFedCluster } from '../api/types.ts';
import type { ClusterClients } from '../kube/clients.ts';
import { apiStatus, errorMessage, isNotFound } from '../kube/errors.ts';
import { FTC_REF, KUBEFEDCLUSTER_REF } from '../kube/refs.ts';
import { clusterReady } from '../propagation/workload.ts';
import { type CliContext, globalOptions, hostClients, UserError } from './options.ts';
import { formatAge, formatOutput } from './output.ts';

export const CLUSTER_COLUMNS = [
  'name',
  'age',
  'ready',
  'offline',
  'kubernetes-version',
  'objects',
  'failing',
] as const;

export interface ObjectCounts {
  /** Federated objects whose status lists the cluster (placed there). */
  objects: number;
  /** Of those, the ones not in sync there or whose workload is not ready there. */
  failing: number;
}

/** Pure: per cluster, how many federated objects it holds and how many of them fail there. */
export function countByCluster(objects: readonly { status?: FederatedStatus }[]): Map<string, ObjectCounts> {
  const out = new Map<string, ObjectCounts>();
  for (const o of objects) {
    for (const c of o.status?.clusters ?? []) {
      const n = out.get(c.name) ?? { objects: 0, failing: 0 };
      n.objects++;
      if (!clusterReady(c)) n.failing++;
      out.set(c.name, n);
    }
  }
  return out;
}

/** Pure: one table row per KubeFedCluster. Missing conditions print as Unknown (never probed). */
export function clusterRows(
  items: readonly KubeFedCluster[],
  now: Date = new Date(),
  counts?: Map<string, ObjectCounts>,
): string[][] {
  return items.map((c) => {
    const conditions = c.status?.conditions;
    const n = counts?.get(c.metadata?.name ?? '') ?? { objects: 0, failing: 0 };
    return [
      c.metadata?.name ?? '',
      formatAge(c.metadata?.creationTimestamp, now),
      findCondition(conditions, ConditionType.Ready)?.status ?? 'Unknown',
      findCondition(conditions, ConditionType.Offline)?.status ?? 'Unknown',
      c.status?.kubernetesVersion ?? '',
      counts ? String(n.objects) : '?',
      counts ? String(n.failing) : '?',
    ];
  });
}

/** Every federated object of every FederatedTypeConfig, from the host (a type without its CRD is skipped). */
async function federatedObjects(
  clients: ClusterClients,
  namespace: string,
): Promise<{ status?: FederatedStatus }[]> {
  const { listResource } = await import('../kube/resources.ts');
  const { refsOf } = await import('../propagation/controller.ts');
  let list: { items: FederatedTypeConfig[] };
  try {
    list = await listResource<FederatedTypeConfig & KubernetesObject>(clients.kc, FTC_REF, { namespace });
  } catch (e) {
    // No FederatedTypeConfig CRD yet (clusters joined, controller never run): no federated objects.
    if (apiStatus(e).code === 404) return [];
    throw e;
  }
  const lists = await Promise.all(
    list.items.map(async (ftc) => {
      try {
        return (
          await listResource<KubernetesObject & { status?: FederatedStatus }>(
            clients.kc,
            refsOf(ftc).federated,
          )
        ).items;
      } catch (e) {
        if (isNotFound(e)) return [];
        throw e;
      }
    }),
  );
  return lists.flat();
}

export function register(program: Command, ctx: CliContext): void {
  const get = program
    .command('get')
    .description('Display federation resources from the host cluster')
    .addHelpText('after', '\nExample:\n  fedctl get clusters');
  get
    .command('clusters')
    .alias('kubefedclusters')
    .alias('cluster')
    .description('List member clusters with their health: Ready, Offline and Kubernetes version')
    .argument('[names...]', 'only these clusters')
    .addHelpText(
      'after',
      `
Examples:
  fedctl get clusters
  fedctl get clusters cluster1 -o yaml
  fedctl get clusters --host-cluster-context cluster0 -o json`,
    )
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      const { clients, context } = hostClients(ctx, g);
      const { listResource } = await import('../kube/resources.ts');
      let items: KubeFedCluster[];
      try {
        items = (
          await listResource<KubeFedCluster & KubernetesObject>(clients.kc, KUBEFEDCLUSTER_REF, {
            namespace: g.kubefedNamespace,
          })
        ).items;
      } catch (e) {
        // The API server answers a plain 404 (no Status reason) when the resource type is unknown.
        const s = apiStatus(e);
        if (s.code === 404 && s.reason === undefined) {
          throw new UserError(
            `KubeFedCluster CRD not installed in host cluster ${context}: run \`fedctl controller\` once or apply crds/`,
          );
        }
        throw new UserError(`listing KubeFedClusters in host cluster ${context}: ${errorMessage(e)}`, {
          cause: e,
        });
      }
      if (names.length > 0) {
        const missing = names.filter((n) => !items.some((c) => c.metadata?.name === n));
        if (missing.length > 0) {
          throw new UserError(
            `kubefedclusters ${missing.map((n) => `"${n}"`).join(', ')} not found in namespace ${g.kubefedNamespace}`,
          );
        }
        items = items.filter((c) => names.includes(c.metadata?.name ?? ''));
      }
      items.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
      if (items.length === 0 && g.output === 'table') {
        ctx.stderr(`No clusters joined in namespace ${g.kubefedNamespace} of host ${context}.\n`);
        return;
      }
      // JSON/YAML: the objects themselves, as a List like kubectl prints.
      const data = { apiVersion: 'v1', kind: 'List', items };
      ctx.stdout(
        await (async () => {
          if (g.output !== 'table') return formatOutput(g.output, data, () => ({ headers: [], rows: [] }));
          let counts: Map<string, ObjectCounts> | undefined;
          try {
            counts = countByCluster(await federatedObjects(clients, g.kubefedNamespace));
          } catch (e) {
            // The health columns are still worth printing; say why the counts are missing.
            ctx.stderr(`could not count federated objects in host cluster ${context}: ${errorMessage(e)}\n`);
          }
          return formatOutput(g.output, data, () => ({
            headers: [...CLUSTER_COLUMNS],
            rows: clusterRows(items, new Date(), counts),
          }));
        })(),
      );
    });
}
