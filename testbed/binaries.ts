import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stdoutOf } from '../src/kube/exec.ts';

// Where the Go-built control-plane binaries live, building them on first use with
// build-binaries.sh (which pins the versions and owns the cache layout).

export const BUILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'build-binaries.sh');

export interface Binaries {
  dir: string;
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  coredns: string;
  kwok: string;
}

export function binariesIn(dir: string): Binaries {
  return {
    dir,
    etcd: join(dir, 'etcd'),
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
    kubeScheduler: join(dir, 'kube-scheduler'),
    coredns: join(dir, 'coredns'),
    kwok: join(dir, 'kwok'),
  };
}

/** Binaries missing (or not executable) from a set. */
export function missingBinaries(b: Binaries): string[] {
  const missing: string[] = [];
  for (const [key, path] of Object.entries(b)) {
    if (key === 'dir') continue;
    try {
      accessSync(path, constants.X_OK);
    } catch {
      missing.push(path);
    }
  }
  return missing;
}

/** The cache directory the build script uses (without building). */
export async function binaryDir(): Promise<string> {
  const out = await stdoutOf('bash', [BUILD_SCRIPT, '--print-dir']);
  const dir = out.trim().split('\n').pop() ?? '';
  if (!dir.startsWith('/'))
    throw new Error(`${BUILD_SCRIPT} --print-dir printed "${out.trim()}", not a directory`);
  return dir;
}

/**
 * Returns the binaries, building missing ones first (a cold build takes many minutes; its progress
 * goes to our stderr). `log` receives one line before a build starts.
 */
export async function ensureBinaries(log: (line: string) => void = () => {}): Promise<Binaries> {
  const b = binariesIn(await binaryDir());
  const missing = missingBinaries(b);
  if (missing.length === 0) return b;
  log(
    `building testbed binaries (missing: ${missing.map((m) => m.split('/').pop()).join(', ')}); a cold build takes 15-30 min`,
  );
  await stdoutOf('bash', [BUILD_SCRIPT], { streamStderr: true, timeoutMs: 3 * 60 * 60_000 });
  const still = missingBinaries(b);
  if (still.length > 0)
    throw new Error(`build-binaries.sh finished but these are still missing: ${still.join(', ')}`);
  return b;
}
