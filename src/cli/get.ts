// `fedctl get clusters`: the KubeFedClusters in the host, as `kubectl get kubefedclusters` shows them.
import type { Command } from 'commander';
import { ConditionType, findCondition } from '../api/conditions.ts';
import { CORE_GROUP, CORE_VERSION } from '../api/constants.ts';
import type { KubeFedCluster } from '../api/types.ts';
import { KUBEFEDCLUSTER_PLURAL } from '../clusters/join.ts';
import { apiStatus, errorMessage } from '../kube/errors.ts';
import { type CliContext, globalOptions, hostClients, UserError } from './options.ts';
import { formatAge, formatOutput } from './output.ts';

export const CLUSTER_COLUMNS = ['name', 'age', 'ready', 'offline', 'kubernetes-version'] as const;

/** Pure: one table row per KubeFedCluster. Missing conditions print as Unknown (never probed). */
export function clusterRows(items: readonly KubeFedCluster[], now: Date = new Date()): string[][] {
  return items.map((c) => {
    const conditions = c.status?.conditions;
    return [
      c.metadata?.name ?? '',
      formatAge(c.metadata?.creationTimestamp, now),
      findCondition(conditions, ConditionType.Ready)?.status ?? 'Unknown',
      findCondition(conditions, ConditionType.Offline)?.status ?? 'Unknown',
      c.status?.kubernetesVersion ?? '',
    ];
  });
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
      let items: KubeFedCluster[];
      try {
        const list = (await clients.custom.listNamespacedCustomObject({
          group: CORE_GROUP,
          version: CORE_VERSION,
          namespace: g.kubefedNamespace,
          plural: KUBEFEDCLUSTER_PLURAL,
        })) as { items?: KubeFedCluster[] };
        items = list.items ?? [];
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
        formatOutput(g.output, data, () => ({ headers: [...CLUSTER_COLUMNS], rows: clusterRows(items) })),
      );
    });
}
