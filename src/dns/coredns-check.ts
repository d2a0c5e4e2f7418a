/**
 * Checks a candidate Corefile with a real CoreDNS before fedctl writes it, because CoreDNS has no
 * dry-run and a Corefile it cannot load takes a cluster's DNS down at the next pod restart.
 *
 * What runs: a "skeleton" of the candidate on loopback. Every server block keeps its zones, but all
 * ports are remapped to free 127.0.0.1 ports (distinct ports stay distinct, shared ports stay
 * shared) and every block binds 127.0.0.1. fedctl's own blocks keep their bodies verbatim; blocks
 * outside fedctl's section get a stub body (`whoami`), because their plugins need the cluster
 * (`kubernetes` wants an API server, `health`/`ready`/`prometheus` want their own ports, `hosts`
 * and `file` want files from the CoreDNS pod) and they are unchanged bytes CoreDNS already runs.
 * Blocks on other transports (tls://, grpc://, ...) are left out: fedctl only adds plain DNS blocks.
 *
 * So the check proves what fedctl's edit can break: the Corefile still parses, fedctl's plugins load
 * with their arguments, and no zone is defined twice on one address. It does not re-check the
 * cluster's own plugin configuration. sectionProblems() in corefile.ts covers what CoreDNS would
 * accept but get wrong (blocks on a different port or bind address than the main server).
 */

import type { ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandNotFoundError, startChild } from '../kube/exec.ts';
import { DEFAULT_DNS_PORT, parseServerBlocks } from './corefile.ts';

export type CheckResult = { ok: true } | { ok: false; error: string; unavailable?: boolean };

/** Environment variable naming the coredns binary (or the folder holding it). */
export const COREDNS_ENV = 'FEDCTL_COREDNS';

export interface CheckOptions {
  /** Path of the coredns binary (or its folder); default $FEDCTL_COREDNS, else `coredns` on PATH. */
  binary?: string;
  /** How long CoreDNS may take to come up; default 10 s. */
  timeoutMs?: number;
}

/** The coredns binary to run: the explicit path, else $FEDCTL_COREDNS, else `coredns` from PATH. */
export function corednsBinary(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = explicit || env[COREDNS_ENV] || 'coredns';
  try {
    if (statSync(chosen).isDirectory()) return join(chosen, 'coredns');
  } catch {
    // Not a path on disk: a name to look up on PATH, or a missing file reported when run.
  }
  return chosen;
}

/**
 * The loopback skeleton of a Corefile (see the module comment). `ports` maps each port the candidate
 * uses (53 for keys without one) to the port to use instead. Pure.
 */
export function checkSkeleton(corefile: string, ports: ReadonlyMap<number, number>): string {
  const parsed = parseServerBlocks(corefile);
  const out: string[] = [];
  for (const b of parsed.blocks) {
    const keys = b.keys.filter((k) => k.scheme === 'dns');
    if (keys.length === 0) continue;
    const rewritten = keys.map((k) => {
      const port = ports.get(k.port ?? DEFAULT_DNS_PORT);
      if (port === undefined) throw new Error(`no replacement port for ${k.port ?? DEFAULT_DNS_PORT}`);
      return `${k.zone}:${port}`;
    });
    const body = b.ours
      ? corefile
          .slice(b.bodyStart, b.bodyEnd)
          .split('\n')
          .filter((l) => !/^\s*bind(\s|$)/.test(l))
          .join('\n')
      : '\n    whoami\n';
    out.push(`${rewritten.join(' ')} {\n    bind 127.0.0.1${body.startsWith('\n') ? '' : '\n'}${body}}\n`);
  }
  return out.join('');
}

/** The distinct ports a Corefile's plain-DNS blocks use (53 for keys without a port). */
export function portsOf(corefile: string): number[] {
  const ports = new Set<number>();
  for (const b of parseServerBlocks(corefile).blocks) {
    for (const k of b.keys) if (k.scheme === 'dns') ports.add(k.port ?? DEFAULT_DNS_PORT);
  }
  return [...ports].sort((a, b) => a - b);
}

/** A free TCP port on 127.0.0.1 (free when asked; CoreDNS binds UDP and TCP, a clash is retried). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export class CoreDnsStartError extends Error {
  readonly output: string;
  constructor(message: string, output: string) {
    super(message);
    this.name = 'CoreDnsStartError';
    this.output = output;
  }
}

export interface RunningCoreDns {
  pid: number;
  /** Everything CoreDNS printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Stops this CoreDNS (by its pid) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `coredns -conf <file>` with the given Corefile text and resolves once it prints its
 * banner (it is serving); rejects with CoreDnsStartError carrying its output when it exits first or
 * does not come up in time, and with CommandNotFoundError when the binary is missing. The Corefile
 * must only bind loopback addresses: the caller decides what it serves.
 */
export async function startCoreDns(corefile: string, opts: CheckOptions = {}): Promise<RunningCoreDns> {
  const binary = corednsBinary(opts.binary);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const dir = await mkdtemp(join(tmpdir(), 'fedctl-coredns-'));
  const conf = join(dir, 'Corefile');
  await writeFile(conf, corefile);
  let child: ChildProcess;
  let output = '';
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    child = await startChild(binary, ['-conf', conf], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    await cleanup();
    throw e;
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      await cleanup();
    }
  };
  const ready = new Promise<void>((resolve) => {
    const onData = (d: Buffer) => {
      output += d.toString('utf8');
      if (/^CoreDNS-\d/m.test(output)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => {
      output += d.toString('utf8');
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then((code) => ({ exit: code })),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (outcome === 'ready') return { pid: child.pid!, output: () => output, stop };
  await stop();
  const text = cleanOutput(output);
  if (outcome === 'timeout')
    throw new CoreDnsStartError(
      `CoreDNS did not come up within ${timeoutMs} ms${text ? `: ${text}` : ''}`,
      output,
    );
  throw new CoreDnsStartError(text || `CoreDNS exited with code ${outcome.exit} without output`, output);
}

/** CoreDNS output without its start-up noise, for error messages. */
function cleanOutput(output: string): string {
  return output
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('maxprocs:'))
    .join('\n')
    .trim();
}

/**
 * Starts a throwaway CoreDNS on the loopback skeleton of `corefile` and reports whether it came up.
 * `{ok:false, unavailable:true}` means the check could not run (no coredns binary), not that the
 * Corefile is bad; callers must still refuse to write in that case.
 */
export async function checkCorefile(corefile: string, opts: CheckOptions = {}): Promise<CheckResult> {
  let used: number[];
  try {
    used = portsOf(corefile);
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  if (used.length === 0) return { ok: true };
  let lastError = '';
  let ports = new Map<number, number>();
  for (let attempt = 0; attempt < 3; attempt++) {
    ports = new Map<number, number>();
    for (const p of used) ports.set(p, await freeLoopbackPort());
    let skeleton: string;
    try {
      skeleton = checkSkeleton(corefile, ports);
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
    try {
      const running = await startCoreDns(skeleton, opts);
      await running.stop();
      return { ok: true };
    } catch (e) {
      if (e instanceof CommandNotFoundError) {
        return {
          ok: false,
          unavailable: true,
          error: `${e.message} Set ${COREDNS_ENV} to the coredns binary (the testbed builds one: bash testbed/build-binaries.sh --print-dir).`,
        };
      }
      lastError = e instanceof Error ? e.message : String(e);
      // A port taken between choosing and binding is not the Corefile's fault: try other ports.
      if (!/address already in use/.test(lastError)) break;
    }
  }
  return { ok: false, error: `CoreDNS refused the Corefile: ${unmapPorts(lastError, ports)}` };
}

/** Puts the candidate's own ports back into CoreDNS's message (it saw the loopback replacements). */
function unmapPorts(message: string, ports: ReadonlyMap<number, number>): string {
  const back = new Map([...ports].map(([orig, mapped]) => [String(mapped), String(orig)]));
  return message.replace(/:(\d+)\b/g, (m, p: string) => (back.has(p) ? `:${back.get(p)}` : m));
}
