// `fedctl version`: the client's version, and the host's Kubernetes version when it answers.
import type { Command } from 'commander';
import { type CliContext, globalOptions, hostClients } from './options.ts';
import { formatOutput } from './output.ts';

export interface VersionInfo {
  fedctl: string;
  host?: { context: string; server?: string; kubernetesVersion?: string; error?: string };
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('version')
    .description('Print the fedctl version and, if the host cluster answers, its Kubernetes version')
    .option('--client', 'print only the fedctl version, without contacting the host cluster', false)
    .addHelpText(
      'after',
      `
Examples:
  fedctl version
  fedctl version --client -o json`,
    )
    .action(async (opts: { client: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const info: VersionInfo = { fedctl: ctx.version };
      if (!opts.client) {
        try {
          const { clients, context } = hostClients(ctx, g);
          const server = clients.kc.getCurrentCluster()?.server;
          const { probeCluster } = await import('../clusters/health.ts');
          const probe = await probeCluster(clients, 3000);
          info.host = { context, server };
          if (probe.version) info.host.kubernetesVersion = probe.version;
          else info.host.error = probe.error ?? 'no version reported';
        } catch (e) {
          // No kubeconfig is fine here: the client version is still worth printing.
          info.host = {
            context: g.hostClusterContext ?? '',
            error: e instanceof Error ? e.message : String(e),
          };
        }
      }
      ctx.stdout(
        formatOutput(g.output, info, () => ({
          headers: ['component', 'version'],
          rows: [
            ['fedctl', `v${info.fedctl}`],
            ...(info.host
              ? [
                  [
                    `host (${info.host.context || 'no context'})`,
                    info.host.kubernetesVersion ?? `unknown: ${info.host.error}`,
                  ],
                ]
              : []),
          ],
          options: { sortBy: false },
        })),
      );
    });
}
