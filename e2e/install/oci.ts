// Running an OCI image without a container runtime (none works on these machines): unpack its
// layers into a folder and start its entrypoint there with chroot, as its configured user, in a
// private mount namespace that has /proc and /dev (what a runtime gives a container). The mounts go
// away with the process; the process is the one whose pid spawn() returns (unshare and sh exec).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';

export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  User?: string;
  WorkingDir?: string;
  ExposedPorts?: Record<string, object>;
  Labels?: Record<string, string>;
}

interface Descriptor {
  mediaType: string;
  digest: string;
}

const blob = (dir: string, d: Descriptor) => join(dir, 'blobs', ...d.digest.split(':'));

/** Unpacks an OCI archive (one image) into `dir`/rootfs and returns its config and layer list. */
export async function unpackOciArchive(
  archive: string,
  dir: string,
): Promise<{ rootfs: string; config: ImageConfig; layers: Descriptor[] }> {
  const layout = join(dir, 'layout');
  const rootfs = join(dir, 'rootfs');
  mkdirSync(layout, { recursive: true });
  mkdirSync(rootfs, { recursive: true });
  await execa('tar', ['-xf', archive, '-C', layout]);
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  if (index.manifests.length !== 1)
    throw new Error(`${archive}: expected one image in index.json, found ${index.manifests.length}`);
  const manifest = JSON.parse(readFileSync(blob(layout, index.manifests[0]!), 'utf8')) as {
    config: Descriptor;
    layers: Descriptor[];
  };
  const config = JSON.parse(readFileSync(blob(layout, manifest.config), 'utf8')) as { config: ImageConfig };
  for (const layer of manifest.layers) {
    // tar detects gzip or zstd compression itself; whiteouts cannot occur in a one-layer image.
    await execa('tar', ['-xpf', blob(layout, layer), '-C', rootfs, '--numeric-owner']);
  }
  return { rootfs, config: config.config, layers: manifest.layers };
}

/** argv and environment for running the image's entrypoint with `args` instead of its Cmd. */
export function imageCommand(
  config: ImageConfig,
  args: string[],
): { argv: string[]; env: Record<string, string> } {
  const entrypoint = config.Entrypoint ?? [];
  if (entrypoint.length === 0) throw new Error('the image has no Entrypoint');
  const env = Object.fromEntries(
    (config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
  return { argv: [...entrypoint, ...args], env };
}

// $1 rootfs, then the command. mount, env and chroot are the host's; `env -i` leaves exactly the
// image's variables for the process that chroot starts.
const CHROOT_SCRIPT =
  'r=$1; shift; mkdir -p "$r/proc" "$r/dev" && mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" && exec "$@"';

/** The absolute path of a host command (the child's PATH is the image's, not the host's). */
function hostCommand(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin'])) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new Error(`'${name}' not found on PATH or in /usr/sbin: is coreutils installed?`);
}

/** Starts `argv` inside `rootfs` as `user` (the image's User), with exactly `env`. */
export function spawnInRootfs(
  rootfs: string,
  user: string,
  argv: string[],
  env: Record<string, string>,
): ChildProcess {
  const pairs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const command = ['env', '-i', ...pairs, hostCommand('chroot'), `--userspec=${user}`, rootfs, ...argv];
  return spawn(
    'unshare',
    ['--mount', '--propagation', 'private', '--', 'sh', '-c', CHROOT_SCRIPT, 'sh', rootfs, ...command],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

/** Runs `argv` inside `rootfs` to completion and returns its output. */
export async function runInRootfs(
  rootfs: string,
  user: string,
  argv: string[],
  env: Record<string, string>,
): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const child = spawnInRootfs(rootfs, user, argv, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1)));
  });
  return { stdout, stderr, exitCode };
}
