// `fedctl orphaning-deletion enable|disable|status TYPE NAME`: keep member objects when a federated object is deleted.
import { type Command, Option } from 'commander';
import { ORPHAN_ANNOTATION } from '../api/constants.ts';
import { type CliContext, defaultNamespace, globalOptions, hostClients, UserError } from './options.ts';

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('orphaning-deletion')
    .description(
      `Control what deleting a federated object does to its member objects. Enabled (annotation
${ORPHAN_ANNOTATION}: "true"), they are kept and lose the kubefed.io/managed label; disabled (the
default), they are deleted from every member.`,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  fedctl orphaning-deletion enable FederatedDeployment test -n test\n  fedctl orphaning-deletion status deployments.apps test -n test',
    );
  for (const action of ['enable', 'disable', 'status'] as const) {
    cmd
      .command(action)
      .description(
        action === 'status'
          ? 'Print Enabled or Disabled'
          : `${action === 'enable' ? 'Keep' : 'Delete'} member objects when the federated object is deleted`,
      )
      .argument('<type>', 'the type, e.g. FederatedDeployment or deployments.apps')
      .argument('<name>', 'name of the federated object')
      .option(
        '-n, --namespace <namespace>',
        "namespace of the federated object (default: the context's namespace, else default)",
      )
      // kubefedctl accepts and hides --dry-run here; fedctl honours it (no write).
      .addOption(new Option('--dry-run').default(false).hideHelp())
      .action(
        async (type: string, name: string, opts: { namespace?: string; dryRun: boolean }, sub: Command) => {
          const g = globalOptions(sub);
          const ns = opts.namespace ?? defaultNamespace(ctx, g);
          const { clients } = hostClients(ctx, g);
          const { findTypeConfig } = await import('../controlplane/typeconfigs.ts');
          const { getResource, patchResource } = await import('../kube/resources.ts');
          const { refsOf } = await import('../propagation/controller.ts');
          const ftc = await findTypeConfig(clients, g.kubefedNamespace, type).catch((e: Error) => {
            throw new UserError(e.message);
          });
          const { federated } = refsOf(ftc);
          const namespace = federated.namespaced ? ns : undefined;
          const obj = await getResource(clients.kc, federated, name, namespace).catch(() => {
            throw new UserError(`${federated.kind} ${namespace ? `${namespace}/` : ''}${name} not found`);
          });
          if (action === 'status') {
            ctx.stdout(
              `${obj.metadata?.annotations?.[ORPHAN_ANNOTATION] === 'true' ? 'Enabled' : 'Disabled'}\n`,
            );
            return;
          }
          if (opts.dryRun) {
            ctx.stdout(
              `orphaning deletion would be ${action}d for ${federated.kind} ${namespace ? `${namespace}/` : ''}${name} (dry run)\n`,
            );
            return;
          }
          // JSON merge patch: null removes the annotation.
          await patchResource(clients.kc, federated, name, namespace, {
            metadata: { annotations: { [ORPHAN_ANNOTATION]: action === 'enable' ? 'true' : null } },
          });
          ctx.stdout(
            `orphaning deletion ${action}d for ${federated.kind} ${namespace ? `${namespace}/` : ''}${name}\n`,
          );
        },
      );
  }
}
