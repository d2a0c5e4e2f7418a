// fedctl's entry point: builds the commander program from the command modules and is the only place
// that turns an error into an exit code and a one-line message (stack traces only with -v).
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { booleanFlags, ignoredKlogFlags, normalizeArgv, VERBOSE_KLOG_LEVEL } from './compat.ts';
import * as controller from './controller.ts';
import * as dns from './dns.ts';
import * as enable from './enable.ts';
import * as federate from './federate.ts';
import * as get from './get.ts';
import * as join from './join.ts';
import {
  addGlobalOptions,
  type CliContext,
  EXIT_FAILURE,
  EXIT_USAGE,
  processContext,
  UserError,
} from './options.ts';
import * as orphaning from './orphaning.ts';
import * as routes from './routes.ts';
import * as status from './status.ts';
import * as unjoin from './unjoin.ts';
import * as version from './version.ts';

/** A command module: one file per command, its logic in the concern's folder. */
export interface CommandModule {
  register(program: Command, ctx: CliContext): void;
}

// ---------------------------------------------------------------------------------------------
// Registered command modules, in the order `fedctl --help` lists them.
// Integrator: add controller, status, enable, disable, federate, orphaning-deletion, dns, routes
// here (import each as `import * as x from './x.ts'`).
export const COMMANDS: CommandModule[] = [
  controller,
  join,
  unjoin,
  get,
  enable,
  federate,
  status,
  orphaning,
  dns,
  routes,
  version,
];
// ---------------------------------------------------------------------------------------------

export function buildProgram(ctx: CliContext, commands: readonly CommandModule[] = COMMANDS): Command {
  const program = new Command('fedctl')
    .description(
      [
        'A KubeFed-compatible multi-cluster federation control plane.',
        'The host cluster holds the control plane (KubeFedClusters, Federated<Kind> templates); member clusters joined with `fedctl join` receive the objects. Data goes to stdout, progress and logs to stderr.',
      ].join('\n\n'),
    )
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({ writeOut: (s) => ctx.stdout(s), writeErr: (s) => ctx.stderr(s) })
    .showSuggestionAfterError(true)
    .exitOverride();
  addGlobalOptions(program);
  program.addHelpText(
    'after',
    `
Examples:
  fedctl join cluster1 --cluster-context cluster1 --host-cluster-context cluster0
  fedctl get clusters -o yaml
  fedctl <command> --help`,
  );
  for (const c of commands) c.register(program, ctx);
  program.hook('preAction', (_root, action) => {
    const ignored = ignoredKlogFlags(action.optsWithGlobals());
    if (ignored.length > 0)
      ctx.stderr(
        `warning: ${ignored.join(', ')} accepted for kubefedctl compatibility and ignored: fedctl logs to stderr (use -v or --v=2 for details)\n`,
      );
  });
  // Subcommands throw instead of exiting too, so index.ts alone decides the exit code.
  const override = (cmd: Command) => {
    cmd.exitOverride();
    for (const sub of cmd.commands) override(sub);
  };
  override(program);
  return program;
}

/** Runs fedctl with `argv` (process.argv shape) and returns the exit code; never exits itself. */
export async function run(
  argv: readonly string[],
  ctx: CliContext,
  commands?: readonly CommandModule[],
): Promise<number> {
  const program = buildProgram(ctx, commands);
  const args = normalizeArgv(argv, booleanFlags(program));
  const verbose =
    args.includes('-v') ||
    args.includes('--verbose') ||
    args.some((a) => /^--v=\d+$/.test(a) && Number(a.slice(4)) >= VERBOSE_KLOG_LEVEL);
  try {
    await program.parseAsync(args);
    return 0;
  } catch (e) {
    return reportError(e, ctx, verbose);
  }
}

/** The exit code for an error, after printing it as one line (plus the stack with -v). */
export function reportError(e: unknown, ctx: Pick<CliContext, 'stderr'>, verbose: boolean): number {
  if (e instanceof CommanderError) {
    // commander already printed its message (or the help/version text, exit code 0).
    if (e.exitCode === 0) return 0;
    return e.code === 'commander.executeSubCommandAsync' ? EXIT_FAILURE : EXIT_USAGE;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  ctx.stderr(`error: ${oneLine(err.message)}\n`);
  if (verbose && err.stack) ctx.stderr(`${err.stack}\n`);
  if (verbose && err.cause !== undefined)
    ctx.stderr(
      `caused by: ${err.cause instanceof Error ? (err.cause.stack ?? err.cause.message) : String(err.cause)}\n`,
    );
  return e instanceof UserError ? e.exitCode : EXIT_FAILURE;
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();

export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

// Run when executed: `node src/cli/index.ts …`, or through bin/fedctl.js (`npx fedctl …`).
function isEntryPoint(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    const entry = realpathSync(argv1);
    return (
      entry === fileURLToPath(import.meta.url) ||
      entry === realpathSync(fileURLToPath(new URL('../../bin/fedctl.js', import.meta.url)))
    );
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const code = await run(process.argv, processContext(packageVersion()));
  // Keep-alive sockets of the API clients would hold a finished command open for seconds: exit once
  // stdout and stderr have drained.
  await Promise.all([
    new Promise((r) => process.stdout.write('', r)),
    new Promise((r) => process.stderr.write('', r)),
  ]);
  process.exit(code);
}
