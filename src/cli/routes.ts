// `fedctl routes`: plan (and apply or delete) node routes between clusters from their Node objects.
import type { Command } from 'commander';
import { type CliContext, globalOptions, UserError, usageError } from './options.ts';
import { formatOutput } from './output.ts';

interface RoutesOptions {
  contexts: string;
  dryRun: boolean;
  apply: boolean;
  delete: boolean;
  via: string;
  netnsMap?: string;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('routes')
    .description(
      `Hand-made node routes between clusters, as in the kind multi-cluster walkthrough: for every node of
every cluster, a route to every other cluster's node pod CIDR via that node's InternalIP. Reads the
Nodes of each context; refuses pod CIDRs that overlap between clusters. Without --apply or --delete
it prints the commands (--dry-run). Re-applying changes nothing.`,
    )
    .requiredOption('--contexts <a,b,c>', 'kubeconfig contexts of the clusters to connect (two or more)')
    .option('--dry-run', 'print the ip route commands (the default)', false)
    .option('--apply', 'set the routes on the nodes', false)
    .option('--delete', 'remove the routes from the nodes', false)
    .option(
      '--via <executor>',
      'how to reach nodes: docker (kind node containers) or netns (network namespaces)',
      'netns',
    )
    .option(
      '--netns-map <map>',
      'node → network namespace for --via netns: "node=ns,cluster/node=ns", a JSON object, or the testbed status JSON (inline or a file); default: the Node annotation fedctl.io/netns',
    )
    .addHelpText(
      'after',
      `
Examples:
  fedctl routes --contexts kind-a,kind-b --dry-run --via docker
  fedctl routes --contexts kind-a,kind-b --apply --via docker
  fedctl routes --contexts cluster0,cluster1 --apply --via netns --netns-map .testbed/status.json
  fedctl routes --contexts cluster0,cluster1 --delete --via netns`,
    )
    .action(async (opts: RoutesOptions, cmd: Command) => {
      const g = globalOptions(cmd);
      const contexts = opts.contexts
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean);
      if (contexts.length < 2) throw usageError('--contexts needs at least two contexts, comma-separated');
      if (opts.apply && opts.delete) throw usageError('choose one of --apply and --delete');
      if (opts.via !== 'docker' && opts.via !== 'netns')
        throw usageError(`--via must be docker or netns, got "${opts.via}"`);
      const via = opts.via;
      const { formatCommand } = await import('../kube/exec.ts');
      const { executeRoutes, nodeCommand, summarizeRouteResults } = await import('../routes/executors.ts');
      const { loadNetnsMap, readClusterNodes } = await import('../routes/nodes.ts');
      const { ipRouteArgs, planRoutes } = await import('../routes/planner.ts');
      const netnsMap = opts.netnsMap ? await loadNetnsMap(opts.netnsMap) : undefined;
      const clusters = await Promise.all(
        contexts.map((context) =>
          readClusterNodes(ctx.connect({ kubeconfig: g.kubeconfig, context }), { netnsMap }),
        ),
      );
      let plan: ReturnType<typeof planRoutes>;
      try {
        plan = planRoutes(clusters);
      } catch (e) {
        throw new UserError((e as Error).message);
      }
      for (const s of plan.skipped) ctx.stderr(`skipped node ${s.node} of ${s.cluster}: ${s.reason}\n`);
      if (!opts.apply && !opts.delete) {
        const action = 'replace';
        const lines = plan.routes.map((r) => {
          try {
            const { cmd: bin, args } = nodeCommand(via, r, ipRouteArgs(r, action));
            return formatCommand(bin, args);
          } catch (e) {
            return `# ${(e as Error).message}`;
          }
        });
        // Table output is the shell commands themselves, ready to paste.
        ctx.stdout(
          g.output === 'table'
            ? `${lines.join('\n')}\n`
            : formatOutput(g.output, plan.routes, () => ({ headers: [], rows: [] })),
        );
        return;
      }
      const results = await executeRoutes(plan.routes, { via, delete: opts.delete });
      ctx.stdout(
        formatOutput(g.output, results, () => ({
          headers: ['CLUSTER', 'NODE', 'DESTINATION', 'VIA', 'RESULT'],
          rows: results.map((r) => [
            r.route.cluster,
            r.route.node,
            r.route.cidr,
            `${r.route.via} (${r.route.viaCluster}/${r.route.viaNode})`,
            r.error ? `${r.outcome}: ${r.error}` : r.outcome,
          ]),
        })),
      );
      ctx.stderr(`${summarizeRouteResults(results)}\n`);
      const failed = results.filter((r) => r.outcome === 'failed').length;
      if (failed > 0) throw new UserError(`${failed} route(s) failed`);
    });
}
