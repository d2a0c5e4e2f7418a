// `fedctl controller`: runs the host controller until SIGINT/SIGTERM.
import type { Command } from 'commander';
import { startControlPlane } from '../controlplane/run.ts';
import { loggerFromEnv } from '../kube/logger.ts';
import { type CliContext, globalOptions, hostClients, usageError } from './options.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('controller')
    .description(
      `Run the host controller: install or upgrade the CRDs and default FederatedTypeConfigs, probe member
health, propagate every Federated<Kind>, and serve /healthz, /readyz and /metrics. Logs are JSON lines
on stderr (FEDCTL_LOG=text for plain text). Stops cleanly on SIGINT/SIGTERM.`,
    )
    .option(
      '--metrics-port <port>',
      'port for /healthz /readyz /metrics on 127.0.0.1 (0: pick a free one)',
      '8080',
    )
    .option('--metrics-address <address>', 'address to serve them on', '127.0.0.1')
    .option(
      '--skip-install',
      'do not install or upgrade CRDs and default type configs (managed elsewhere, e.g. GitOps)',
      false,
    )
    .option('--workers <n>', 'concurrent reconciles per federated type', '8')
    .option(
      '--coredns-binary <path>',
      'coredns binary (or its folder) used to check Corefiles before writing them (default: $FEDCTL_COREDNS, then PATH)',
    )
    .option('--dns-force-tcp', 'forward cross-cluster DNS queries over TCP', false)
    .option('--resync <seconds>', 'full resync period: every cached object is reconciled again', '300')
    .addHelpText(
      'after',
      `
Examples:
  fedctl controller --host-cluster-context cluster0
  FEDCTL_LOG=text fedctl controller --kubeconfig .testbed/kubeconfig --host-cluster-context cluster0 --metrics-port 0`,
    )
    .action(
      async (
        opts: {
          metricsPort: string;
          metricsAddress: string;
          skipInstall: boolean;
          workers: string;
          resync: string;
          corednsBinary?: string;
          dnsForceTcp: boolean;
        },
        cmd: Command,
      ) => {
        const g = globalOptions(cmd);
        const port = Number(opts.metricsPort);
        const workers = Number(opts.workers);
        const resync = Number(opts.resync);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw usageError(`--metrics-port must be 0..65535, got ${opts.metricsPort}`);
        if (!Number.isInteger(workers) || workers < 1)
          throw usageError(`--workers must be a positive integer, got ${opts.workers}`);
        if (!(resync > 0))
          throw usageError(`--resync must be a positive number of seconds, got ${opts.resync}`);
        const { clients } = hostClients(ctx, g);
        const log = loggerFromEnv({ level: g.verbose ? 'debug' : 'info' }).with({ component: 'controller' });
        const plane = await startControlPlane({
          host: clients,
          namespace: g.kubefedNamespace,
          log,
          metricsPort: port,
          metricsAddress: opts.metricsAddress,
          skipInstall: opts.skipInstall,
          workers,
          resyncMs: resync * 1000,
          corednsBinary: opts.corednsBinary,
          dnsForceTcp: opts.dnsForceTcp,
        });
        log.info('controller running', { host: clients.name, namespace: g.kubefedNamespace });
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            log.info('stopping', { signal });
            resolve();
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
        });
        await plane.stop();
      },
    );
}
