// `npm run testbed -- up|status|down|stop-apiserver|start-apiserver`: data on stdout, progress on stderr.

import { Command, InvalidArgumentError, Option } from 'commander';
import {
  down,
  downOrphans,
  listTestbeds,
  readTestbedState,
  startClusterApiServer,
  status,
  stopClusterApiServer,
  up,
} from './index.ts';
import { isRunning } from './processes.ts';
import { defaultStateDir, statusTable } from './state.ts';

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

const program = new Command('testbed')
  .description(
    'Local multi-cluster Kubernetes for fedctl: etcd, kube-apiserver, controller-manager, scheduler, ' +
      'kwok and CoreDNS per cluster on 127.0.0.1, nodes in network namespaces (or kind clusters); ' +
      'with --profile light only etcd and kube-apiserver.',
  )
  .option('--dir <path>', 'state directory (default $FEDCTL_TESTBED_DIR or <repo>/.testbed)')
  .showHelpAfterError();

const dirOpt = (): { stateDir: string } => ({
  stateDir: program.opts<{ dir?: string }>().dir ?? defaultStateDir(),
});

program
  .command('up')
  .description('start the testbed (safe to repeat); prints the kubeconfig path')
  .option('--clusters <n>', 'number of clusters', int('--clusters'), 3)
  .option('--nodes <k>', 'fake nodes per cluster (default 2; none in the light profile)', int('--nodes'))
  .addOption(
    new Option(
      '--profile <name>',
      'full: the whole control plane, nodes and DNS per cluster; light: etcd + kube-apiserver only (scale runs)',
    )
      .choices(['full', 'light'])
      .default('full'),
  )
  .addOption(
    new Option('--cluster-domain <mode>', 'cluster.local everywhere, or clusterI.local per cluster')
      .choices(['shared', 'distinct'])
      .default('distinct'),
  )
  .addOption(
    new Option('--provider <name>', 'where clusters run (default: $FEDCTL_PROVIDER, else local)').choices([
      'local',
      'kind',
    ]),
  )
  .option('--no-netns', 'do not back nodes with network namespaces (node IPs stay virtual)')
  .option('--keep-on-failure', 'leave a failed testbed in place for inspection')
  .option('--kind-image <image>', 'kind node image (kind provider)')
  .action(
    async (o: {
      clusters: number;
      nodes?: number;
      profile: 'full' | 'light';
      clusterDomain: 'shared' | 'distinct';
      provider?: 'local' | 'kind';
      netns: boolean;
      keepOnFailure?: boolean;
      kindImage?: string;
    }) => {
      const s = await up({
        ...dirOpt(),
        clusters: o.clusters,
        nodes: o.nodes,
        profile: o.profile,
        clusterDomain: o.clusterDomain,
        provider: o.provider,
        netns: o.netns,
        keepOnFailure: o.keepOnFailure,
        kindImage: o.kindImage,
        persistent: true,
      });
      process.stdout.write(`${s.kubeconfig}\n`);
    },
  );

program
  .command('status')
  .description('show clusters, nodes, DNS addresses and the kubeconfig path')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['json', 'table']).default('table'))
  .action(async (o: { output: 'json' | 'table' }) => {
    const s = await status(dirOpt());
    if (o.output === 'json') {
      process.stdout.write(`${JSON.stringify(s)}\n`);
      return;
    }
    const state = await readTestbedState(dirOpt());
    const alive = (cluster: string) => {
      const c = state.clusters.find((x) => x.name === cluster);
      if (!c || c.processes.length === 0) return state.provider;
      const up = c.processes.filter((p) => isRunning(p)).map((p) => p.name.split('/')[1]);
      const downs = c.processes.filter((p) => !isRunning(p)).map((p) => p.name.split('/')[1]);
      return `${up.length}/${c.processes.length} running${downs.length ? ` (down: ${downs.join(',')})` : ''}`;
    };
    process.stdout.write(statusTable(s, alive));
  });

program
  .command('down')
  .description(
    'stop every recorded process, delete network namespaces, remove the state directory (safe to repeat)',
  )
  .option(
    '--orphans',
    'instead: tear down testbeds (any state directory) whose owning test run exited without doing so',
  )
  .action(async (o: { orphans?: boolean }) => {
    if (o.orphans) await downOrphans();
    else await down(dirOpt());
  });

program
  .command('list')
  .description('list the testbeds registered on this machine (one per line: id, state dir, summary)')
  .action(async () => {
    for (const t of await listTestbeds()) process.stdout.write(`${t.id}\t${t.stateDir}\t${t.summary}\n`);
  });

program
  .command('stop-apiserver <cluster>')
  .description("stop one cluster's kube-apiserver (simulated outage)")
  .option('--hard', 'SIGKILL at once instead of a graceful stop')
  .action(async (name: string, o: { hard?: boolean }) => {
    await stopClusterApiServer(name, { ...dirOpt(), hard: o.hard });
  });

program
  .command('start-apiserver <cluster>')
  .description('start a stopped kube-apiserver again (same port and data)')
  .action(async (name: string) => {
    await startClusterApiServer(name, dirOpt());
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`testbed: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
