// `fedctl enable TYPE` and `fedctl disable TYPE`: make an API type federable, or stop federating it.
import type { Command } from 'commander';
import { disableType, enableType } from '../controlplane/typeconfigs.ts';
import { type CliContext, globalOptions, hostClients } from './options.ts';
import { formatOutput } from './output.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('enable')
    .description(
      `Enable propagation of an API type: create the Federated<Kind> CRD and the FederatedTypeConfig in the
host. Works for any type the host serves, custom resources included (their schema validates templates).`,
    )
    .argument('<type>', 'deployments.apps, Deployment, statefulsets.apps, mycrds.example.com …')
    .addHelpText('after', '\nExamples:\n  fedctl enable statefulsets.apps\n  fedctl enable CronJob')
    .action(async (type: string, _opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      const { clients } = hostClients(ctx, g);
      const result = await enableType(clients, g.kubefedNamespace, type);
      ctx.stdout(
        formatOutput(g.output, result, () => ({
          headers: ['OBJECT', 'RESULT'],
          rows: Object.entries(result.outcomes).map(([k, v]) => [k, v]),
        })),
      );
    });
  program
    .command('disable')
    .description(
      'Disable propagation of a type: delete its FederatedTypeConfig (member objects stay as they are)',
    )
    .argument('<type>', 'the type, as given to enable')
    .option(
      '--delete-crd',
      'also delete every federated object of that kind (the running controller removes their member copies, or orphans them where asked) and then the Federated<Kind> CRD',
      false,
    )
    .addHelpText('after', '\nExample:\n  fedctl disable statefulsets.apps --delete-crd')
    .action(async (type: string, opts: { deleteCrd: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const { clients } = hostClients(ctx, g);
      for (const line of await disableType(clients, g.kubefedNamespace, type, opts.deleteCrd))
        ctx.stdout(`${line}\n`);
    });
}
