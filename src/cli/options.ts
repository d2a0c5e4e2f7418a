// What every command shares: the global flags, the typed error index.ts turns into an exit code, and the
// context object commands receive (output streams and how to reach clusters), injectable for tests.
import type { Command } from 'commander';
import { DEFAULT_KUBEFED_NAMESPACE } from '../api/constants.ts';
import { type ClusterClients, clientsFor, loadKubeConfig } from '../kube/clients.ts';
import { addKlogOptions, VERBOSE_KLOG_LEVEL } from './compat.ts';
import { isOutputFormat, OUTPUT_FORMATS, type OutputFormat } from './output.ts';

/** Exit codes fedctl uses. 1: the operation failed; 2: the command line or its inputs are wrong. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * An error the user can act on: printed as one line (no stack unless -v) and mapped to `exitCode` by
 * src/cli/index.ts. Anything else that escapes a command is treated as a failure (exit 1) too, but
 * UserError says "this is expected, the message is the whole story".
 */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, opts: { exitCode?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'UserError';
    this.exitCode = opts.exitCode ?? EXIT_FAILURE;
  }
}

/** A bad flag or argument (exit 2). */
export const usageError = (message: string): UserError => new UserError(message, { exitCode: EXIT_USAGE });

export interface GlobalOptions {
  kubeconfig?: string;
  hostClusterContext?: string;
  kubefedNamespace: string;
  output: OutputFormat;
  verbose: boolean;
}

/** Adds the kubectl-style global flags to the root command. */
export function addGlobalOptions(program: Command): Command {
  addKlogOptions(program);
  return program
    .option('--kubeconfig <path>', 'path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option(
      '--host-cluster-context <context>',
      'kubeconfig context of the host cluster, where the control plane runs (default: the current context)',
    )
    .option(
      '--kubefed-namespace <namespace>',
      'namespace of the control plane in the host cluster',
      DEFAULT_KUBEFED_NAMESPACE,
    )
    .option('-o, --output <format>', `output format: ${OUTPUT_FORMATS.join('|')}`, 'table')
    .option('-v, --verbose', 'log progress details, and print stack traces on errors', false);
}

/** The global flags as seen from any (sub)command, validated. */
export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as Record<string, unknown>;
  const output = String(o.output ?? 'table');
  if (!isOutputFormat(output)) {
    throw usageError(`unknown output format "${output}" (use one of: ${OUTPUT_FORMATS.join(', ')})`);
  }
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    kubeconfig: str(o.kubeconfig),
    hostClusterContext: str(o.hostClusterContext),
    kubefedNamespace: str(o.kubefedNamespace) ?? DEFAULT_KUBEFED_NAMESPACE,
    output,
    verbose: o.verbose === true || (typeof o.v === 'number' && o.v >= VERBOSE_KLOG_LEVEL),
  };
}

/** Progress and diagnostics for people; always stderr, `debug` only with -v. */
export interface CliLog {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

/** What commands get from index.ts. Tests pass their own to capture output and fake clusters. */
export interface CliContext {
  /** Data (tables, JSON, YAML): stdout. */
  stdout(text: string): void;
  /** Progress, warnings, logs: stderr. */
  stderr(text: string): void;
  /** Clients for a kubeconfig context (undefined: the kubeconfig's current context). */
  connect(opts: { kubeconfig?: string; context?: string }): ClusterClients;
  /** The kubeconfig's current context name, used when --host-cluster-context is not given. */
  currentContext(kubeconfig?: string): string;
  /**
   * The namespace a kubeconfig context names (kubectl's and kubefedctl's default for -n), or
   * undefined when it names none.
   */
  contextNamespace?(kubeconfig: string | undefined, context: string | undefined): string | undefined;
  /** fedctl's own version, from package.json. */
  version: string;
}

export function logFor(ctx: CliContext, verbose: boolean): CliLog {
  return {
    info: (m) => ctx.stderr(`${m}\n`),
    warn: (m) => ctx.stderr(`warning: ${m}\n`),
    debug: (m) => {
      if (verbose) ctx.stderr(`${m}\n`);
    },
  };
}

/** The real context: process streams and kubeconfig files. */
export function processContext(version: string): CliContext {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    connect: ({ kubeconfig, context }) => {
      const kc = loadConfigOrExplain({ kubeconfig, context });
      return clientsFor(kc.getCurrentContext(), kc);
    },
    currentContext: (kubeconfig) => loadConfigOrExplain({ kubeconfig }).getCurrentContext(),
    contextNamespace: (kubeconfig, context) => {
      const kc = loadConfigOrExplain({ kubeconfig, context });
      return kc.getContextObject(kc.getCurrentContext())?.namespace || undefined;
    },
    version,
  };
}

// A missing kubeconfig or unknown context is the user's to fix: say so in one line, exit 2.
function loadConfigOrExplain(source: { kubeconfig?: string; context?: string }) {
  try {
    const kc = loadKubeConfig(source);
    return kc;
  } catch (e) {
    const where = source.kubeconfig ?? process.env.KUBECONFIG ?? '~/.kube/config';
    throw new UserError(`cannot load kubeconfig ${where}: ${e instanceof Error ? e.message : String(e)}`, {
      exitCode: EXIT_USAGE,
      cause: e,
    });
  }
}

/** Host cluster clients from the global flags, plus the context name they came from. */
export function hostClients(ctx: CliContext, g: GlobalOptions): { clients: ClusterClients; context: string } {
  const context = g.hostClusterContext ?? ctx.currentContext(g.kubeconfig);
  return { clients: ctx.connect({ kubeconfig: g.kubeconfig, context }), context };
}

/** kubefedctl's default for -n: the host context's namespace, else `default`. */
export function defaultNamespace(ctx: CliContext, g: GlobalOptions): string {
  return ctx.contextNamespace?.(g.kubeconfig, g.hostClusterContext) ?? 'default';
}
