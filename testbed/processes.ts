import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProcessRecord } from './state.ts';

// Starting and stopping the testbed's long-running processes. Each starts detached (its own process
// group, pid = pgid), logs to a file, and is later stopped by that recorded pid only.

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot; undefined if gone. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); field 22 is rest[19].
    if (rest[0] === 'Z') return undefined;
    const v = Number(rest[19]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** True when the recorded process still runs and is the same process (not a reused pid). */
export function isRunning(rec: Pick<ProcessRecord, 'pid' | 'startTicks'>): boolean {
  if (rec.pid === null) return false;
  const ticks = processStartTicks(rec.pid);
  if (ticks === undefined) return false;
  return rec.startTicks === null || rec.startTicks === ticks;
}

/** Parsed /proc/<pid>/stat fields after the command name: [state, ppid, pgrp, ...]. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * Live (non-zombie) members of process group `pgid`, read from /proc. Zombies are ignored: an
 * orphaned zombie waits for init to reap it and can no longer do anything.
 */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return members;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const f = statFields(e);
    if (f && f[0] !== 'Z' && Number(f[2]) === pgid) members.push(Number(e));
  }
  return members;
}

const groupAlive = (pgid: number): boolean => groupMembers(pgid).length > 0;

export interface StartSpec {
  name: string;
  cmd: string;
  args: string[];
  log: string;
  env?: Record<string, string>;
  cwd?: string;
}

/** Starts a process in its own group with stdout/stderr appended to its log; returns its record. */
export function startProcess(spec: StartSpec): ProcessRecord {
  const fd = openSync(spec.log, 'a');
  try {
    const child = spawn(spec.cmd, spec.args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...spec.env },
      cwd: spec.cwd,
    });
    // Swallow spawn errors here; a missing binary shows up as an immediately dead process, and the
    // caller reports the log.
    child.on('error', () => {});
    child.unref();
    if (child.pid === undefined)
      throw new Error(`could not start ${spec.name}: ${spec.cmd} (does it exist?)`);
    return {
      name: spec.name,
      pid: child.pid,
      startTicks: processStartTicks(child.pid) ?? null,
      cmd: spec.cmd,
      args: spec.args,
      log: spec.log,
    };
  } finally {
    closeSync(fd);
  }
}

/**
 * Stops a recorded process group: SIGTERM, wait up to `graceMs`, then SIGKILL (graceMs 0: SIGKILL
 * at once, like a crash). Only signals the
 * group when the leader is still the recorded process (or already gone but the group lingers).
 * Returns true when something was signalled.
 */
export async function stopProcess(rec: ProcessRecord, graceMs = 10_000): Promise<boolean> {
  const pid = rec.pid;
  if (pid === null) return false;
  const leaderIsOurs = isRunning(rec);
  // A group whose leader exited keeps its id while members live; the id cannot be reused as a pid
  // while the group exists, so signalling it is still safe.
  if (!leaderIsOurs && !groupAlive(pid)) return false;
  if (!leaderIsOurs && processStartTicks(pid) !== undefined) return false; // pid reused by a stranger
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      /* already gone */
    }
  };
  if (graceMs > 0) signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!groupAlive(pid)) return true;
    await sleep(100);
  }
  signal('SIGKILL');
  for (let i = 0; i < 50 && groupAlive(pid); i++) await sleep(100);
  return true;
}

/** The last `lines` lines of a log file ('' if missing). */
export function tail(path: string, lines = 30): string {
  if (!existsSync(path)) return '';
  const text = readFileSync(path, 'utf8');
  return text
    .split('\n')
    .slice(-lines - 1)
    .join('\n');
}

/** Log mentions a bind race (port taken between probe and use)? */
export function lostPortRace(log: string): boolean {
  return /address already in use|bind: address|EADDRINUSE/i.test(log);
}
