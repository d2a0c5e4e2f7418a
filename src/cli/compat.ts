// kubefedctl's command line, as scripts written for it type it, mapped onto fedctl's. kubefedctl is a
// cobra/pflag program with klog's flags on its root: pflag accepts `--flag=false` for booleans and
// `--log_dir` for `--log-dir`, and klog's verbosity is `--v=N` / `-v N`. commander accepts none of
// these, so the argv is normalised once, before parsing, into what commander understands.
import { type Command, Option } from 'commander';

/**
 * klog's flags (k8s.io/klog/v2 InitFlags), which kubefedctl adds to every command. Only `--v` has an
 * effect in fedctl (2 or more turns on -v); the others configure klog's log files and headers, which
 * fedctl does not have: they are accepted, and a warning says they are ignored.
 */
export const KLOG_VALUE_FLAGS = [
  'log-backtrace-at',
  'log-dir',
  'log-file',
  'log-file-max-size',
  'stderrthreshold',
  'vmodule',
] as const;
export const KLOG_BOOL_FLAGS = [
  'add-dir-header',
  'alsologtostderr',
  'logtostderr',
  'one-output',
  'skip-headers',
  'skip-log-headers',
] as const;

/** kubefedctl's `--v=N`: fedctl's -v (debug lines, stack traces) from level 2 on, where kubefedctl logs its steps. */
export const VERBOSE_KLOG_LEVEL = 2;

/** Adds klog's flags (hidden from help) to the root command. */
export function addKlogOptions(program: Command): Command {
  program.addOption(
    new Option('--v <level>', 'klog verbosity, as kubefedctl: 2 or more is the same as -v').argParser(
      parseLevel,
    ),
  );
  for (const f of KLOG_VALUE_FLAGS) program.addOption(new Option(`--${f} <value>`).hideHelp());
  for (const f of KLOG_BOOL_FLAGS) program.addOption(new Option(`--${f}`).hideHelp());
  return program;
}

function parseLevel(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--v wants a non-negative integer, got "${v}"`);
  return n;
}

/** The klog flags a parsed command line set that fedctl ignores (for a warning). */
export function ignoredKlogFlags(opts: Record<string, unknown>): string[] {
  const camel = (f: string) => f.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return [...KLOG_VALUE_FLAGS, ...KLOG_BOOL_FLAGS]
    .filter((f) => opts[camel(f)] !== undefined)
    .map((f) => `--${f}`);
}

const TRUE = new Set(['true', 't', '1', 'TRUE', 'True', 'T']);
const FALSE = new Set(['false', 'f', '0', 'FALSE', 'False', 'F']);

/**
 * kubefedctl argv → commander argv:
 * - `--log_dir` → `--log-dir` (pflag's word-separator normalisation; only the flag name, not its value);
 * - `--bool=true` → `--bool`, `--bool=false` → `--no-bool` for the boolean flags named in `negatable`
 *   (strconv.ParseBool's spellings), and `--bool=false` → dropped for the others, which are off anyway;
 * - `-v=N`, `-vN`, `-v N` (N an integer) → `--v=N`; a bare `-v` stays fedctl's boolean verbose flag.
 * Everything after `--` is left alone.
 */
export function normalizeArgv(
  argv: readonly string[],
  bools: { negatable: ReadonlySet<string>; plain: ReadonlySet<string> },
): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const shortV = /^-v(?:=?(\d+))$/.exec(a);
    if (shortV) {
      out.push(`--v=${shortV[1]}`);
      continue;
    }
    if (a === '-v' && /^\d+$/.test(argv[i + 1] ?? '')) {
      out.push(`--v=${argv[i + 1]}`);
      i++;
      continue;
    }
    if (!a.startsWith('--')) {
      out.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = (eq < 0 ? a.slice(2) : a.slice(2, eq)).replaceAll('_', '-');
    const value = eq < 0 ? undefined : a.slice(eq + 1);
    const isBool = bools.negatable.has(name) || bools.plain.has(name);
    if (isBool && value !== undefined && (TRUE.has(value) || FALSE.has(value))) {
      if (TRUE.has(value)) out.push(`--${name}`);
      else if (bools.negatable.has(name)) out.push(`--no-${name}`);
      continue;
    }
    out.push(value === undefined ? `--${name}` : `--${name}=${value}`);
  }
  return out;
}

/** The boolean flags of a program and all its subcommands, split by whether `--no-X` exists. */
export function booleanFlags(program: Command): { negatable: Set<string>; plain: Set<string> } {
  const negatable = new Set<string>();
  const plain = new Set<string>();
  const visit = (cmd: Command) => {
    const longs = new Set(cmd.options.map((o) => o.long?.slice(2) ?? ''));
    for (const o of cmd.options) {
      if (o.required || o.optional || !o.long) continue;
      const name = o.long.slice(2);
      if (name.startsWith('no-')) continue;
      (longs.has(`no-${name}`) ? negatable : plain).add(name);
    }
    for (const sub of cmd.commands) visit(sub);
  };
  visit(program);
  return { negatable, plain };
}

/** kubefedctl's --dry-run, honoured the same way everywhere: report what would be done, write nothing. */
export const dryRunOption = (): Option =>
  new Option('--dry-run', 'only report what would be done; nothing is written to any cluster').default(false);
