// `fedctl unjoin`: flags to UnjoinOptions; the work is in src/clusters/unjoin.ts.
import type { Command } from 'commander';
import { DnsReason } from '../api/conditions.ts';
import type { ClusterClients } from '../kube/clients.ts';
import { errorMessage } from '../kube/errors.ts';
import { dryRunOption } from './compat.ts';
import { type CliContext, globalOptions, hostClients, logFor } from './options.ts';
import { formatOutput } from './output.ts';

interface UnjoinFlags {
  clusterContext?: string;
  hostClusterName?: string;
  force: boolean;
  dryRun: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('unjoin')
    .summary('Remove a cluster from the federation')
    .description(
      [
        'Remove a cluster from the federation.',
        "In the member: its ClusterRoleBinding, ClusterRole, token Secret and ServiceAccount, and the namespace if join created it, it is not the host's own and no other join uses it. In the host: the KubeFedCluster and its Secret.",
        'Objects already gone are fine, so unjoin can be re-run. If the member cannot be reached nothing is removed, unless --force, which removes the host side and lists what stays in the member.',
      ].join('\n\n'),
    )
    .argument('<name>', 'name of the member, as given to join')
    .option('--cluster-context <context>', 'kubeconfig context of the member (default: NAME)')
    .option('--host-cluster-name <name>', 'host cluster name given to join (default: the host context name)')
    .option(
      '--force',
      'remove the host-side registration even if the member is unreachable or its cleanup fails',
      false,
    )
    .addOption(dryRunOption())
    .addHelpText(
      'after',
      `
Examples:
  fedctl unjoin cluster1 --cluster-context cluster1 --host-cluster-context cluster0
  # the member is gone for good: drop its registration from the host
  fedctl unjoin cluster2 --force`,
    )
    .action(async (name: string, flags: UnjoinFlags, cmd: Command) => {
      const g = globalOptions(cmd);
      const log = logFor(ctx, g.verbose);
      const host = hostClients(ctx, g);
      let member: ClusterClients | undefined;
      let memberError: string | undefined;
      try {
        member = ctx.connect({ kubeconfig: g.kubeconfig, context: flags.clusterContext ?? name });
      } catch (e) {
        // With --force a member missing from the kubeconfig is the expected case.
        if (!flags.force) throw e;
        memberError = e instanceof Error ? e.message : String(e);
      }
      const { unjoinCluster } = await import('../clusters/unjoin.ts');
      const result = await unjoinCluster({
        host: host.clients,
        member,
        memberError,
        clusterName: name,
        hostClusterName: flags.hostClusterName ?? host.context,
        kubefedNamespace: g.kubefedNamespace,
        force: flags.force,
        dryRun: flags.dryRun,
        log: (m) => log.debug(m),
        warn: (m) => log.warn(m),
      });
      ctx.stdout(
        formatOutput(g.output, result, () => ({
          headers: ['side', 'cluster', 'kind', 'namespace', 'name', 'result'],
          rows: result.objects.map((o) => [
            o.side,
            o.cluster,
            o.kind,
            o.namespace ?? '',
            o.name,
            o.detail ? `${o.outcome} (${o.detail})` : o.outcome,
          ]),
          options: { sortBy: false },
        })),
      );
      if (flags.dryRun) {
        log.info(`dry run: nothing removed; unjoin ${name} would delete the objects listed as would-delete`);
        return;
      }
      if (member && result.memberCleaned) {
        // The controller no longer reaches this cluster, so its Corefile section goes now. Removing
        // the section only gives back the operator's own Corefile, so no CoreDNS check is needed.
        const { corefileClients, writeCorefileSection } = await import('../dns/writer.ts');
        const dns = await writeCorefileSection(corefileClients(member), '', {
          check: async () => ({ ok: true }),
        }).catch((e: unknown) => ({
          outcome: 'refused' as const,
          reason: DnsReason.WriteFailed,
          message: errorMessage(e),
        }));
        if (dns.outcome === 'updated')
          log.info(
            `removed fedctl's section from ${name}'s Corefile (previous one kept in kube-system/coredns-fedctl-backup)`,
          );
        if (dns.outcome === 'refused' && dns.reason !== DnsReason.CoreDNSConfigNotFound)
          log.warn(`could not remove fedctl's Corefile section in ${name}: ${dns.message}`);
      }
      log.info(
        result.memberCleaned
          ? `cluster ${name} unjoined from host ${result.hostClusterName}`
          : `cluster ${name} removed from host ${result.hostClusterName}; objects remain in ${name} (see warnings)`,
      );
    });
}
