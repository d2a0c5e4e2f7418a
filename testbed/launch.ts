import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning, lostPortRace, type StartSpec, startProcess } from './processes.ts';
import { type ClusterRecord, type ProcessRecord, type TestbedState, writeState } from './state.ts';

// Starting the testbed's processes: each pid recorded in the state file before anything waits on
// it, readiness polling, retries after a lost port race, and the state directory's lock.

export type Log = (line: string) => void;

/** Serialises state writes (clusters start in parallel and each records its pids at once). */
export class StateRecorder {
  readonly state: TestbedState;
  #chain: Promise<void> = Promise.resolve();
  constructor(state: TestbedState) {
    this.state = state;
  }
  save(): Promise<void> {
    const next = this.#chain.then(() => writeState(this.state));
    this.#chain = next.catch(() => {});
    return next;
  }
}

function setProcess(list: ProcessRecord[], rec: ProcessRecord): void {
  const i = list.findIndex((p) => p.name === rec.name);
  if (i === -1) list.push(rec);
  else list[i] = rec;
}

const fileSize = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

/** Log text written since `offset`, last `lines` lines. */
function logSince(path: string, offset: number, lines = 40): string {
  try {
    const text = readFileSync(path).subarray(offset).toString('utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  }
}

/** GET over HTTP(S) on loopback; true on a 2xx. Used for etcd, KCM and scheduler health. */
export function httpOk(url: string, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { method: 'GET', timeout: timeoutMs, rejectUnauthorized: false },
      (res) => {
        res.resume();
        resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

interface LaunchSpec {
  cluster: ClusterRecord | null;
  name: string;
  spec: () => StartSpec;
  ready: () => Promise<boolean>;
  /** Picks new ports after a lost bind race; absent = no retry. */
  repick?: () => Promise<void>;
  timeoutMs?: number;
}

/**
 * Starts a process, records its pid at once, and waits until `ready`. When it dies because its port
 * was taken in the meantime, picks new ports and tries again (up to 3 times).
 */
export async function launch(rec: StateRecorder, log: Log, l: LaunchSpec): Promise<ProcessRecord> {
  const where = l.cluster ? l.cluster.processes : rec.state.processes;
  const label = l.cluster ? `${l.cluster.name}/${l.name}` : l.name;
  for (let attempt = 1; ; attempt++) {
    const spec = l.spec();
    await mkdir(dirname(spec.log), { recursive: true });
    const offset = fileSize(spec.log);
    const proc = startProcess({ ...spec, name: label });
    setProcess(where, proc);
    await rec.save();
    const deadline = Date.now() + (l.timeoutMs ?? 90_000);
    let retry = false;
    for (;;) {
      if (!isRunning(proc)) {
        const out = logSince(spec.log, offset);
        if (l.repick && attempt < 4 && lostPortRace(out)) {
          log(`${label}: port taken before it could bind; retrying with new ports`);
          await l.repick();
          retry = true;
          break;
        }
        throw new Error(`${label} exited while starting (log ${spec.log}):\n${out}`);
      }
      if (await l.ready().catch(() => false)) return proc;
      if (Date.now() > deadline) {
        throw new Error(
          `${label} not ready after ${(l.timeoutMs ?? 90_000) / 1000}s (log ${spec.log}):\n${logSince(spec.log, offset)}`,
        );
      }
      await sleep(200);
    }
    if (!retry) break;
  }
  throw new Error(`${label}: could not start`);
}

export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  fn: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs / 1000}s waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`,
      );
    }
    await sleep(250);
  }
}

/** Takes <dir>/lock for the duration of a command; a lock left by a dead process is taken over. */
export async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dir, { recursive: true });
  const lock = join(dir, 'lock');
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        const holder = existsSync(lock) ? readFileSync(lock, 'utf8').trim() : '?';
        throw new Error(
          `another testbed command (pid ${holder}) is working on ${dir}; wait for it or remove ${lock}`,
        );
      }
      const holder = Number(readFileSync(lock, 'utf8').trim());
      let alive = false;
      try {
        if (holder > 0) {
          process.kill(holder, 0);
          alive = true;
        }
      } catch {
        alive = false;
      }
      if (alive && holder !== process.pid) {
        throw new Error(
          `another testbed command (pid ${holder}) is working on ${dir}; wait for it or remove ${lock}`,
        );
      }
      await rm(lock, { force: true });
    }
  }
  try {
    return await fn();
  } finally {
    if (existsSync(lock)) await rm(lock, { force: true });
  }
}
