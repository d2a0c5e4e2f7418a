// `fedctl controller`: runs the host controller until SIGINT/SIGTERM.
import type { Command } from 'commander';
import type { RunningControlPlane } from '../controlplane/run.ts';
import type { Supervisor } from '../controlplane/supervisor.ts';
import { errorMessage } from '../kube/errors.ts';
import type { Election } from '../kube/leader.ts';
import { type CliContext, globalOptions, hostClients, UserError, usageError } from './options.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('controller')
    .description(
      `Run the host controller: install or upgrade the CRDs and default FederatedTypeConfigs, probe member
health, propagate every Federated<Kind>, and serve /healthz, /readyz and /metrics. Logs are JSON lines
on stderr (FEDCTL_LOG=text for plain text). Stops cleanly on SIGINT/SIGTERM. When the host API server is
unreachable longer than the lease's renew deadline the controllers stop and start afresh once it is back
(/readyz answers 503 meanwhile); only a configuration error (credentials, permissions) ends the process.`,
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
    .option('--no-leader-elect', 'run without leader election (only when exactly one controller runs)')
    .option(
      '--resync <seconds>',
      'resync period: every cached object is reconciled again, from the caches (no request; the API servers are relisted every 30 min)',
      '300',
    )
    .option(
      '--member-timeout <seconds>',
      'time limit of one request to a member; a member judged not ready ends the wait sooner (a request unanswered for 1 s makes the health prober check that member at once)',
      '30',
    )
    .option(
      '--kube-api-qps <n>',
      'client-side limit of requests per second to each cluster (host and every member), watches excepted; 0: none (API Priority and Fairness on the servers decides, see docs/performance.md)',
      '0',
    )
    .option('--kube-api-burst <n>', 'requests that may go at once under --kube-api-qps', '100')
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
          memberTimeout: string;
          kubeApiQps: string;
          kubeApiBurst: string;
          corednsBinary?: string;
          dnsForceTcp: boolean;
          leaderElect: boolean;
        },
        cmd: Command,
      ) => {
        // The controller's modules load when it runs, so other commands and --help stay light.
        const [
          { electLeader, startControlPlane },
          { superviseControlPlane },
          { loggerFromEnv },
          { Registry },
          { startHttpServer },
          { configureRequestLimits },
        ] = await Promise.all([
          import('../controlplane/run.ts'),
          import('../controlplane/supervisor.ts'),
          import('../kube/logger.ts'),
          import('../kube/metrics.ts'),
          import('../kube/server.ts'),
          import('../kube/transport.ts'),
        ]);
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
        const memberTimeout = Number(opts.memberTimeout);
        if (!(memberTimeout > 0))
          throw usageError(
            `--member-timeout must be a positive number of seconds, got ${opts.memberTimeout}`,
          );
        const qps = Number(opts.kubeApiQps);
        const burst = Number(opts.kubeApiBurst);
        if (!(qps >= 0)) throw usageError(`--kube-api-qps must be a number ≥ 0, got ${opts.kubeApiQps}`);
        if (!Number.isInteger(burst) || burst < 1)
          throw usageError(`--kube-api-burst must be a positive integer, got ${opts.kubeApiBurst}`);
        // Before the first request: each cluster connection takes its limiter when it is made.
        configureRequestLimits({ qps, burst });
        const { clients } = hostClients(ctx, g);
        const log = loggerFromEnv({ level: g.verbose ? 'debug' : 'info' }).with({ component: 'controller' });
        const signalled = new Promise<string>((resolve) => {
          process.once('SIGINT', () => resolve('SIGINT'));
          process.once('SIGTERM', () => resolve('SIGTERM'));
        });
        // The endpoint outlives leadership terms: a standby, or a leader whose host went away, answers
        // /readyz 503 with the reason; /metrics shows the current term's registry.
        let supervisor: Supervisor<RunningControlPlane> | undefined;
        let election: Election | undefined;
        const standbyMetrics = new Registry();
        const server = await startHttpServer({
          port,
          host: opts.metricsAddress,
          healthz: () => true,
          readyz: () => {
            if (supervisor?.ready()) return true;
            throw new Error(
              election && !election.isLeader() ? 'not the leader' : 'controllers not running yet',
            );
          },
          metrics: () => supervisor?.current()?.metrics ?? standbyMetrics,
        });
        log.info('serving /healthz /readyz /metrics', { address: `${server.host}:${server.port}` });
        try {
          // Only the leader runs controllers; the others wait for the lease. Preparing the campaign
          // waits for an unreachable host, so a signal must be able to end that wait.
          const shutdown = new AbortController();
          void signalled.then(() => shutdown.abort());
          try {
            election = opts.leaderElect
              ? await electLeader(clients, g.kubefedNamespace, log, shutdown.signal)
              : undefined;
          } catch (e) {
            if (shutdown.signal.aborted) return;
            throw e;
          }
          if (shutdown.signal.aborted) {
            await election?.stop();
            return;
          }
          supervisor = superviseControlPlane({
            election,
            log,
            start: async (signal) => {
              const plane = await startControlPlane({
                host: clients,
                namespace: g.kubefedNamespace,
                log,
                signal,
                skipInstall: opts.skipInstall,
                workers,
                resyncMs: resync * 1000,
                operationTimeoutMs: memberTimeout * 1000,
                corednsBinary: opts.corednsBinary,
                dnsForceTcp: opts.dnsForceTcp,
              });
              log.info('controller running', { host: clients.name, namespace: g.kubefedNamespace });
              return plane;
            },
          });
          const why = await Promise.race([
            signalled.then((signal) => ({ signal })),
            supervisor.done.then(
              () => ({ signal: 'done' }),
              (error: unknown) => ({ error }),
            ),
          ]);
          if ('signal' in why) log.info('stopping', { signal: why.signal });
          await supervisor.stop();
          await election?.stop();
          // Only a configuration error (credentials, permissions, an invalid object) gets here.
          if ('error' in why) throw new UserError(`controller stopped: ${errorMessage(why.error)}`);
        } finally {
          await server.close();
        }
      },
    );
}
