// `fedctl enable TYPE` and `fedctl disable TYPE`: make an API type federable, or stop federating it.
// Flags are kubefedctl v0.10's (--federated-group, --federated-version, --version, -f, -o yaml,
// --dry-run, --delete-crd) with its meanings; fedctl's -o json/table are kept.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { TYPES_GROUP, TYPES_VERSION } from '../api/constants.ts';
import type { DisableOptions, EnableOptions } from '../controlplane/typeconfigs.ts';
import { dryRunOption } from './compat.ts';
import {
  type CliContext,
  type GlobalOptions,
  globalOptions,
  hostClients,
  logFor,
  UserError,
  usageError,
} from './options.ts';
import { formatOutput, toJson, toYaml } from './output.ts';

interface EnableFlags {
  federatedGroup: string;
  federatedVersion: string;
  version?: string;
  filename?: string;
  dryRun: boolean;
}

/** What `fedctl enable` does, from its argv: the type, enableType's options, and how to print. */
export interface EnableInvocation {
  type: string;
  options: EnableOptions;
  /** -o yaml|json: print the objects, write nothing (kubefedctl: "-o yaml implies dry run"). */
  print?: 'yaml' | 'json';
}

/**
 * kubefedctl enable's -f is an EnableTypeDirective (metadata.name = the type, spec.targetVersion,
 * federatedGroup, federatedVersion); as in kubefedctl, the file replaces the other flags.
 */
export function enableInvocation(
  type: string | undefined,
  flags: EnableFlags,
  g: GlobalOptions,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): EnableInvocation {
  let inv: EnableInvocation;
  if (flags.filename) {
    let doc: {
      kind?: string;
      metadata?: { name?: string };
      spec?: { targetVersion?: string; federatedGroup?: string; federatedVersion?: string };
    };
    try {
      doc = parseYaml(readFile(flags.filename)) ?? {};
    } catch (e) {
      throw usageError(`cannot read EnableTypeDirective ${flags.filename}: ${(e as Error).message}`);
    }
    if (doc.kind !== undefined && doc.kind !== 'EnableTypeDirective')
      throw usageError(`${flags.filename}: kind is ${doc.kind}, expected EnableTypeDirective`);
    const name = doc.metadata?.name;
    if (!name) throw usageError(`${flags.filename}: metadata.name (the type to enable) is missing`);
    if (type !== undefined && type !== name)
      throw usageError(`TYPE "${type}" and -f ${flags.filename} (metadata.name ${name}) disagree; give one`);
    inv = {
      type: name,
      options: {
        federatedGroup: doc.spec?.federatedGroup || TYPES_GROUP,
        federatedVersion: doc.spec?.federatedVersion || TYPES_VERSION,
        ...(doc.spec?.targetVersion ? { targetVersion: doc.spec.targetVersion } : {}),
      },
    };
  } else {
    if (!type) throw usageError('enable needs TYPE (or -f with an EnableTypeDirective)');
    inv = {
      type,
      options: {
        federatedGroup: flags.federatedGroup,
        federatedVersion: flags.federatedVersion,
        ...(flags.version ? { targetVersion: flags.version } : {}),
      },
    };
  }
  if (g.output === 'yaml' || g.output === 'json') {
    inv.print = g.output;
    inv.options.printOnly = true;
  } else if (flags.dryRun) inv.options.dryRun = true;
  return inv;
}

interface DisableFlags {
  deleteCrd: boolean;
  federatedGroup?: string;
  version?: string;
  dryRun: boolean;
}

/** `fedctl disable` argv → disableType's options; --federated-group and --version only with --delete-crd, as kubefedctl. */
export function disableOptions(flags: DisableFlags): DisableOptions {
  if (!flags.deleteCrd && flags.version !== undefined)
    throw usageError('--version is valid only with --delete-crd');
  if (!flags.deleteCrd && flags.federatedGroup !== undefined && flags.federatedGroup !== TYPES_GROUP)
    throw usageError('--federated-group is valid only with --delete-crd');
  return {
    deleteCrd: flags.deleteCrd,
    dryRun: flags.dryRun,
    ...(flags.federatedGroup ? { federatedGroup: flags.federatedGroup } : {}),
    ...(flags.version ? { targetVersion: flags.version } : {}),
  };
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('enable')
    .description(
      `Enable propagation of an API type: create the Federated<Kind> CRD and the FederatedTypeConfig in the
host. Works for any type the host serves, custom resources included (their schema validates templates).
Members joined with --rbac=minimal get the new type added to their role (through their kubeconfig
context, named like the cluster). With -o yaml or -o json the objects are printed and nothing is written.`,
    )
    .argument('[type]', 'deployments.apps, Deployment, statefulsets.apps, mycrds.example.com …')
    .option('--federated-group <group>', 'API group of the generated federated type', TYPES_GROUP)
    .option('--federated-version <version>', 'API version of the generated federated type', TYPES_VERSION)
    .option('--version <version>', 'version of the target type (default: its preferred version)')
    .option(
      '-f, --filename <file>',
      "an EnableTypeDirective YAML (kubefedctl's); replaces TYPE and the flags above",
    )
    .addOption(dryRunOption())
    .addHelpText(
      'after',
      '\nExamples:\n  fedctl enable statefulsets.apps\n  fedctl enable CronJob\n  fedctl enable deployments.apps -o yaml   # print only',
    )
    .action(async (type: string | undefined, flags: EnableFlags, cmd: Command) => {
      const g = globalOptions(cmd);
      const inv = enableInvocation(type, flags, g);
      const { clients } = hostClients(ctx, g);
      const { enableType } = await import('../controlplane/typeconfigs.ts');
      const result = await enableType(clients, g.kubefedNamespace, inv.type, inv.options);
      if (inv.print) {
        ctx.stdout(
          inv.print === 'json'
            ? toJson({ apiVersion: 'v1', kind: 'List', items: result.objects })
            : result.objects.map(toYaml).join('---\n'),
        );
        return;
      }
      ctx.stdout(
        formatOutput(g.output, result.outcomes, () => ({
          headers: ['OBJECT', inv.options.dryRun ? 'RESULT (DRY RUN)' : 'RESULT'],
          rows: Object.entries(result.outcomes).map(([k, v]) => [k, v]),
        })),
      );
      if (inv.options.dryRun) return;
      const log = logFor(ctx, g.verbose);
      const { extendMinimalRoles } = await import('../clusters/join.ts');
      for (const line of await extendMinimalRoles(clients, g.kubefedNamespace, (cluster) =>
        ctx.connect({ kubeconfig: g.kubeconfig, context: cluster }),
      ))
        (line.ok ? log.info : log.warn)(line.message);
    });
  program
    .command('disable')
    .description(
      `Disable propagation of a type: delete its FederatedTypeConfig (member objects stay as they are).
With --delete-crd also delete the Federated<Kind> CRD, which is refused while any federated object of
the type exists (deleting them would delete their copies in every member).`,
    )
    .argument('<type>', 'the type, as given to enable')
    .option('--delete-crd', 'also delete the Federated<Kind> CRD (only when no object of it exists)', false)
    .option(
      '--federated-group <group>',
      'group of the federated CRD when no FederatedTypeConfig names it any more (only with --delete-crd)',
    )
    .option(
      '--version <version>',
      'version of the target type, to find the federated CRD when no FederatedTypeConfig exists (only with --delete-crd)',
    )
    .addOption(dryRunOption())
    .addHelpText('after', '\nExample:\n  fedctl disable statefulsets.apps --delete-crd')
    .action(async (type: string, flags: DisableFlags, cmd: Command) => {
      const g = globalOptions(cmd);
      const options = disableOptions(flags);
      const { clients } = hostClients(ctx, g);
      const { DisableRefused, disableType } = await import('../controlplane/typeconfigs.ts');
      const lines = await disableType(clients, g.kubefedNamespace, type, options).catch((e: unknown) => {
        throw e instanceof DisableRefused ? new UserError(e.message) : e;
      });
      for (const line of lines) ctx.stdout(`${line}\n`);
    });
}
