import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

// A machine-wide list of testbeds (one small file per testbed id), so `testbed down --orphans` can
// clean up testbeds whose owning test run died before its own teardown.

export interface RegistryEntry {
  id: string;
  stateDir: string;
  createdAt: string;
  /**
   * The process that called up() and is expected to call down() (a test run), or null for a
   * testbed started from the CLI, which lives until someone runs `down`.
   */
  owner: { pid: number; startTicks: number | null } | null;
}

/** $FEDCTL_TESTBED_REGISTRY, else <fedctl cache>/testbeds. */
export function registryDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FEDCTL_TESTBED_REGISTRY) return env.FEDCTL_TESTBED_REGISTRY;
  const cache = env.FEDCTL_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fedctl');
  return join(cache, 'testbeds');
}

export async function register(entry: RegistryEntry, dir = registryDir()): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${entry.id}.json`), `${JSON.stringify(entry)}\n`);
}

export async function unregister(id: string, dir = registryDir()): Promise<void> {
  await rm(join(dir, `${id}.json`), { force: true });
}

/** Registered testbeds; unreadable entries are skipped. */
export function listRegistered(dir = registryDir()): RegistryEntry[] {
  if (!existsSync(dir)) return [];
  const out: RegistryEntry[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    try {
      const e = JSON.parse(readFileSync(join(dir, f), 'utf8')) as RegistryEntry;
      if (typeof e.id === 'string' && typeof e.stateDir === 'string') out.push(e);
    } catch {
      /* a half-written entry: ignore */
    }
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}
