// `fedctl join`: flags to JoinOptions; the work is in src/clusters/join.ts.
import { type Command, Option } from 'commander';
import type { JoinOptions } from '../clusters/join.ts';
import { RBAC_MODES, type RbacMode, validateJoinNames } from '../clusters/join-names.ts';
import { dryRunOption } from './compat.ts';
import {
  type CliContext,
  type GlobalOptions,
  globalOptions,
  hostClients,
  logFor,
  usageError,
} from './options.ts';
import { formatOutput } from './output.ts';

interface JoinFlags {
  clusterContext?: string;
  hostClusterName?: string;
  errorOnExisting: boolean;
  apiEndpoint?: string;
  secretName?: string;
  dryRun: boolean;
  rbac: string;
}

/** What `fedctl join` does, from its argv: the member's context and joinCluster's options (without clients). */
export type JoinInvocation = Omit<JoinOptions, 'host' | 'member' | 'log'> & { memberContext: string };

/**
 * argv → join options, with kubefedctl's defaults: --cluster-context is NAME, --host-cluster-name the
 * host context, --error-on-existing on. Throws a usage error for what the flags get wrong.
 */
export function joinInvocation(
  name: string,
  flags: JoinFlags,
  g: GlobalOptions,
  hostContext: string,
): JoinInvocation {
  const hostClusterName = flags.hostClusterName ?? hostContext;
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
  if (!(RBAC_MODES as readonly string[]).includes(flags.rbac))
    throw usageError(`--rbac "${flags.rbac}" is not one of ${RBAC_MODES.join(', ')}`);
  return {
    clusterName: name,
    hostClusterName,
    memberContext: flags.clusterContext ?? name,
    kubefedNamespace: g.kubefedNamespace,
    errorOnExisting: flags.errorOnExisting,
    dryRun: flags.dryRun,
    rbac: flags.rbac as RbacMode,
    ...(flags.apiEndpoint !== undefined ? { apiEndpoint: flags.apiEndpoint } : {}),
    ...(flags.secretName !== undefined ? { secretName: flags.secretName } : {}),
  };
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('join')
    .summary('Register a cluster with the control plane')
    .description(
      [
        'Register a cluster with the control plane in the host cluster.',
        'In the member: the namespace, ServiceAccount <NAME>-<HOST>, its token Secret, and ClusterRole and ClusterRoleBinding kubefed-controller-manager:<NAME>-<HOST> (kubefed-controller-manager:<NAMESPACE>:<NAME>-<HOST> outside kube-federation-system) giving that account full access, or with --rbac=minimal only the enabled federated types. A KubeFedConfig with scope Namespaced gets a Role and RoleBinding in the control-plane namespace instead, plus a health-check ClusterRole. In the host: Secret <NAME> (or --secret-name) holding the token and KubeFedCluster <NAME>.',
        'As kubefedctl, join refuses when any of these exists already (--error-on-existing defaults to true); with --error-on-existing=false it updates whatever differs. Each object is reported as created, updated or unchanged.',
      ].join('\n\n'),
    )
    .argument('<name>', 'name of the member in the federation (an RFC 1123 subdomain)')
    .option('--cluster-context <context>', 'kubeconfig context of the cluster to join (default: NAME)')
    .option(
      '--host-cluster-name <name>',
      'name of the host cluster, used in the member ServiceAccount name (default: the host context name)',
    )
    .option(
      '--error-on-existing',
      'fail, changing nothing, if an object join makes already exists (kubefedctl default; --error-on-existing=false updates them)',
      true,
    )
    .addOption(new Option('--no-error-on-existing').hideHelp())
    .option(
      '--secret-name <name>',
      'name of the host Secret holding the member credentials (default: NAME; kubefedctl generated <NAME>-xxxxx)',
    )
    .addOption(
      new Option(
        '--rbac <mode>',
        'what the member grants the control plane: full (all resources, as kubefedctl) or minimal (only the enabled federated types; `fedctl enable` extends it)',
      )
        .choices([...RBAC_MODES])
        .default('full'),
    )
    .addOption(dryRunOption())
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
  # re-run to update an existing registration in place
  fedctl join cluster1 --cluster-context cluster1 --error-on-existing=false
  # grant only the enabled federated types, and preview first
  fedctl join cluster2 --cluster-context kind-cluster2 --rbac=minimal --dry-run`,
    )
    .action(async (name: string, flags: JoinFlags, cmd: Command) => {
      const g = globalOptions(cmd);
      const log = logFor(ctx, g.verbose);
      const host = hostClients(ctx, g);
      const inv = joinInvocation(name, flags, g, host.context);
      const member = ctx.connect({ kubeconfig: g.kubeconfig, context: inv.memberContext });
      const { joinCluster } = await import('../clusters/join.ts');
      const result = await joinCluster({
        ...inv,
        host: host.clients,
        member,
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
        `${result.dryRun ? 'dry run: nothing written; ' : ''}cluster ${name} ${result.dryRun ? 'would be joined' : 'joined'} to host ${result.hostClusterName} (${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged${result.scope !== 'Cluster' || result.rbac !== 'full' ? `; ${result.scope} scope, ${result.rbac} RBAC` : ''})`,
      );
    });
}
