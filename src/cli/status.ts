// `fedctl status KIND NAME`: the Propagation condition and per-cluster outcome of a federated object.
import type { Command } from 'commander';
import { findTypeConfig } from '../controlplane/typeconfigs.ts';
import { isNotFound } from '../kube/errors.ts';
import { getResource } from '../kube/resources.ts';
import { refsOf } from '../propagation/controller.ts';
import { type CliContext, globalOptions, hostClients, UserError } from './options.ts';
import { formatOutput } from './output.ts';

interface FederatedStatus {
  conditions?: Array<{
    type: string;
    status: string;
    reason?: string;
    message?: string;
    observedGeneration?: number;
  }>;
  clusters?: Array<{ name: string; status?: string; message?: string }>;
}

/** Pure: rows CLUSTER / STATUS / MESSAGE; an empty status means the cluster is in sync ("OK"). */
export function statusRows(status: FederatedStatus | undefined): string[][] {
  return (status?.clusters ?? []).map((c) => [c.name, c.status || 'OK', c.message ?? '']);
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description(
      'Show the propagation status of a federated object: its Propagation condition and each cluster',
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
      const ftc = await findTypeConfig(clients, g.kubefedNamespace, type).catch((e: Error) => {
        throw new UserError(e.message);
      });
      const { federated } = refsOf(ftc);
      const namespace = federated.namespaced ? opts.namespace : undefined;
      let obj: { metadata?: { generation?: number }; status?: FederatedStatus };
      try {
        obj = (await getResource(clients.kc, federated, name, namespace)) as typeof obj;
      } catch (e) {
        if (isNotFound(e))
          throw new UserError(`${federated.kind} ${namespace ? `${namespace}/` : ''}${name} not found`);
        throw e;
      }
      const status = obj.status ?? {};
      ctx.stdout(
        formatOutput(g.output, status, () => {
          const p = status.conditions?.find((c) => c.type === 'Propagation');
          const stale =
            p?.observedGeneration !== undefined && p.observedGeneration !== obj.metadata?.generation;
          ctx.stderr(
            `${federated.kind} ${namespace ? `${namespace}/` : ''}${name}: Propagation ${p?.status ?? 'Unknown'}` +
              `${p?.reason ? ` (${p.reason})` : ''}${p?.message ? `: ${p.message}` : ''}${stale ? ' [status is for an older generation]' : ''}\n`,
          );
          return { headers: ['CLUSTER', 'STATUS', 'MESSAGE'], rows: statusRows(status) };
        }),
      );
    });
}
