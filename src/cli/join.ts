// `fedctl join`: flags to JoinOptions; the work is in src/clusters/join.ts.
import type { Command } from 'commander';
import { joinCluster, validateJoinNames } from '../clusters/join.ts';
import { type CliContext, globalOptions, hostClients, logFor, usageError } from './options.ts';
import { formatOutput } from './output.ts';

interface JoinFlags {
  clusterContext?: string;
  hostClusterName?: string;
  errorOnExisting: boolean;
  apiEndpoint?: string;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('join')
    .summary('Register a cluster with the control plane')
    .description(
      [
        'Register a cluster with the control plane in the host cluster.',
        'In the member: the namespace, ServiceAccount <NAME>-<HOST>, its token Secret, and ClusterRole and ClusterRoleBinding kubefed-controller-manager:<NAME>-<HOST> giving that account full access. In the host: Secret <NAME> holding the token and KubeFedCluster <NAME>.',
        'Re-running updates whatever differs and reports each object as created, updated or unchanged.',
      ].join('\n\n'),
    )
    .argument('<name>', 'name of the member in the federation (an RFC 1123 subdomain)')
    .option('--cluster-context <context>', 'kubeconfig context of the cluster to join (default: NAME)')
    .option(
      '--host-cluster-name <name>',
      'name of the host cluster, used in the member ServiceAccount name (default: the host context name)',
    )
    .option('--error-on-existing', 'fail if NAME is already joined instead of updating it', false)
    .option(
      '--api-endpoint <url>',
      'API server URL the control plane uses to reach the member (default: from the kubeconfig)',
    )
    .addHelpText(
      'after',
      `
Examples:
  # join two clusters to the control plane running in cluster0 (the host joins itself too)
  fedctl join cluster0 --cluster-context cluster0 --host-cluster-context cluster0
  fedctl join cluster1 --cluster-context cluster1 --host-cluster-context cluster0
  # a script that must not silently re-register a cluster
  fedctl join cluster2 --cluster-context kind-cluster2 --error-on-existing -o json`,
    )
    .action(async (name: string, flags: JoinFlags, cmd: Command) => {
      const g = globalOptions(cmd);
      const log = logFor(ctx, g.verbose);
      const host = hostClients(ctx, g);
      const hostClusterName = flags.hostClusterName ?? host.context;
      const problems = validateJoinNames(name, hostClusterName);
      if (problems.length > 0) {
        const hint =
          flags.hostClusterName === undefined && problems.some((p) => p.includes('host cluster name'))
            ? ' (the host cluster name defaults to the host context name: set --host-cluster-name)'
            : '';
        throw usageError(`${problems.join('; ')}${hint}`);
      }
      if (flags.apiEndpoint !== undefined) {
        let ok = false;
        try {
          ok = ['https:', 'http:'].includes(new URL(flags.apiEndpoint).protocol);
        } catch {}
        if (!ok) throw usageError(`--api-endpoint "${flags.apiEndpoint}" is not an http(s) URL`);
      }
      const member = ctx.connect({ kubeconfig: g.kubeconfig, context: flags.clusterContext ?? name });
      const result = await joinCluster({
        host: host.clients,
        member,
        clusterName: name,
        hostClusterName,
        kubefedNamespace: g.kubefedNamespace,
        errorOnExisting: flags.errorOnExisting,
        apiEndpoint: flags.apiEndpoint,
        log: (m, level) => (level === 'info' ? log.info(m) : log.debug(m)),
      });
      ctx.stdout(
        formatOutput(g.output, result, () => ({
          headers: ['side', 'cluster', 'kind', 'namespace', 'name', 'result'],
          rows: result.objects.map((o) => [o.side, o.cluster, o.kind, o.namespace ?? '', o.name, o.outcome]),
          options: { sortBy: false },
        })),
      );
      const count = (o: string) => result.objects.filter((x) => x.outcome === o).length;
      log.info(
        `cluster ${name} joined to host ${hostClusterName} (${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged)`,
      );
    });
}
