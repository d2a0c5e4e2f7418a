// `fedctl status KIND NAME`: is the object propagated, and is its workload up, in each cluster?
// One row per cluster (sync outcome, ready/desired, age of the last change, message) and a total;
// `-o json|yaml` prints the same report as data.
import type { Command } from 'commander';
import { ConditionType, findCondition } from '../api/conditions.ts';
import type { Condition, FederatedStatus, WorkloadState, WorkloadTotals } from '../api/types.ts';
import { isNotFound } from '../kube/errors.ts';
import { clusterReady, summaryColumns, workloadTotals } from '../propagation/workload.ts';
import { type CliContext, globalOptions, hostClients, UserError } from './options.ts';
import { formatAge, formatOutput } from './output.ts';

export interface ClusterReport {
  cluster: string;
  /** The propagation outcome: OK, or the code (e.g. UpdateFailed, ClusterNotReady). */
  sync: string;
  /** Ready/desired replicas (`3/3`), yes/no for kinds without replicas, '' when nothing is known. */
  ready: string;
  /** In sync and the workload (if any) healthy. */
  healthy: boolean;
  lastChange?: string;
  message: string;
  workload?: WorkloadState;
}

export interface StatusReport {
  kind: string;
  name: string;
  namespace?: string;
  generation?: number;
  observedGeneration?: number;
  propagation?: Condition;
  clusters: ClusterReport[];
  totals: WorkloadTotals;
  ready?: string;
  readyClusters: string;
}

function readyCell(w: WorkloadState | undefined): string {
  if (!w) return '';
  if (w.desired !== undefined) return `${w.ready ?? 0}/${w.desired}`;
  return w.healthy ? 'yes' : 'no';
}

/** Why a cluster is not up, in words: the propagation failure first, then the workload's. */
function messageOf(c: NonNullable<FederatedStatus['clusters']>[number]): string {
  if (c.status) return c.message ?? '';
  const w = c.workload;
  if (!w || w.healthy) return '';
  if (w.reason) return `${w.reason}${w.message ? `: ${w.message}` : ''}`;
  if (w.observed === false) return 'the member has not yet acted on the latest spec';
  if (w.desired !== undefined && w.updated !== undefined && w.updated < w.desired)
    return `rolling out: ${w.updated} of ${w.desired} updated`;
  if (w.desired !== undefined && (w.ready ?? 0) < w.desired) return `${w.ready ?? 0} of ${w.desired} ready`;
  return 'rolling out';
}

/** Pure: the report for a federated object as read from the host. */
export function statusReport(
  kind: string,
  obj: { metadata?: { name?: string; namespace?: string; generation?: number }; status?: FederatedStatus },
): StatusReport {
  const status = obj.status ?? {};
  const clusters = [...(status.clusters ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  // A status written before workload reporting has no totals: derive them the same way.
  const totals = status.totals ?? workloadTotals(clusters);
  const columns = summaryColumns(totals);
  return {
    kind,
    name: obj.metadata?.name ?? '',
    ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}),
    ...(obj.metadata?.generation !== undefined ? { generation: obj.metadata.generation } : {}),
    ...(status.observedGeneration !== undefined ? { observedGeneration: status.observedGeneration } : {}),
    ...(findCondition(status.conditions, ConditionType.Propagation)
      ? { propagation: findCondition(status.conditions, ConditionType.Propagation) }
      : {}),
    clusters: clusters.map((c) => ({
      cluster: c.name,
      sync: c.status || 'OK',
      ready: readyCell(c.workload),
      healthy: clusterReady(c),
      ...(c.lastChange ? { lastChange: c.lastChange } : {}),
      message: messageOf(c),
      ...(c.workload ? { workload: c.workload } : {}),
    })),
    totals,
    ...columns,
  };
}

/** Pure: rows CLUSTER / SYNC / READY / AGE / MESSAGE, clusters sorted, then the total. */
export function statusRows(report: StatusReport, now: Date = new Date()): string[][] {
  const rows = report.clusters.map((c) => [
    c.cluster,
    c.sync,
    c.ready,
    c.lastChange ? formatAge(c.lastChange, now) : '',
    c.message,
  ]);
  rows.push([
    'TOTAL',
    `${report.totals.readyClusters}/${report.totals.clusters} clusters ready`,
    report.ready ?? '',
    '',
    '',
  ]);
  return rows;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description(
      'Show a federated object in each cluster: propagation outcome, workload readiness, age of the last change',
    )
    .argument('<type>', 'the type: FederatedDeployment, federateddeployments, deployments.apps, Deployment …')
    .argument('<name>', 'name of the federated object')
    .option('-n, --namespace <namespace>', 'namespace of the federated object', 'default')
    .addHelpText(
      'after',
      '\nExamples:\n  fedctl status FederatedDeployment test -n test\n  fedctl status deployments.apps test -n test -o yaml',
    )
    .action(async (type: string, name: string, opts: { namespace: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const { clients } = hostClients(ctx, g);
      const { findTypeConfig } = await import('../controlplane/typeconfigs.ts');
      const { getResource } = await import('../kube/resources.ts');
      const { refsOf } = await import('../propagation/controller.ts');
      const ftc = await findTypeConfig(clients, g.kubefedNamespace, type).catch((e: Error) => {
        throw new UserError(e.message);
      });
      const { federated } = refsOf(ftc);
      const namespace = federated.namespaced ? opts.namespace : undefined;
      let obj: Parameters<typeof statusReport>[1];
      try {
        obj = (await getResource(clients.kc, federated, name, namespace)) as typeof obj;
      } catch (e) {
        if (isNotFound(e))
          throw new UserError(`${federated.kind} ${namespace ? `${namespace}/` : ''}${name} not found`);
        throw e;
      }
      const report = statusReport(federated.kind, obj);
      ctx.stdout(
        formatOutput(g.output, report, () => {
          const p = report.propagation;
          const stale = p?.observedGeneration !== undefined && p.observedGeneration !== report.generation;
          ctx.stderr(
            `${federated.kind} ${namespace ? `${namespace}/` : ''}${name}: Propagation ${p?.status ?? 'Unknown'}` +
              `${p?.reason ? ` (${p.reason})` : ''}${p?.message ? `: ${p.message}` : ''}${stale ? ' [status is for an older generation]' : ''}\n`,
          );
          return {
            headers: ['CLUSTER', 'SYNC', 'READY', 'AGE', 'MESSAGE'],
            rows: statusRows(report),
            options: { sortBy: false },
          };
        }),
      );
    });
}
