// The npm package as a user gets it: `npm pack` in the checkout (prepack builds dist/), then
// `npm install --global --prefix <dir> <tarball>`, all on the project's Node (the `node` package).
import { mkdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** PATH with the project's Node first, so `#!/usr/bin/env node` (npm's own, fedctl's) finds it. */
export function projectNodePath(): string {
  return [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter);
}

export interface PackedFile {
  path: string;
  size: number;
}

export interface Installed {
  tarball: string;
  /** Files in the tarball, as `npm pack --json` lists them (paths relative to package/). */
  files: PackedFile[];
  prefix: string;
  /** The installed `fedctl` command (a symlink into prefix/lib/node_modules/fedctl/bin). */
  bin: string;
  packSeconds: number;
  installSeconds: number;
}

async function npm(args: string[], cwd: string): Promise<string> {
  const r = await execa('npm', [...args, '--no-fund', '--no-audit', '--no-update-notifier'], {
    cwd,
    env: { PATH: projectNodePath() },
    reject: false,
    timeout: 600_000,
  });
  if (r.exitCode !== 0)
    throw new Error(`npm ${args.join(' ')} (in ${cwd}) exited ${r.exitCode}:\n${r.stderr}\n${r.stdout}`);
  return String(r.stdout);
}

/** Packs the checkout into `dir` and installs the tarball globally into `dir`/prefix. */
export async function packAndInstall(dir: string): Promise<Installed> {
  mkdirSync(dir, { recursive: true });
  let t0 = performance.now();
  const out = await npm(['pack', '--json', '--pack-destination', dir], REPO);
  const packSeconds = (performance.now() - t0) / 1000;
  // prepack's build logs go to stderr; stdout is the JSON report (one entry per packed package).
  const [report] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: PackedFile[] }[];
  if (!report) throw new Error(`npm pack --json printed no package report:\n${out}`);
  const tarball = join(dir, report.filename);
  const prefix = join(dir, 'prefix');
  t0 = performance.now();
  await npm(['install', '--global', '--prefix', prefix, tarball], dir);
  return {
    tarball,
    files: report.files,
    prefix,
    bin: join(prefix, 'bin', 'fedctl'),
    packSeconds,
    installSeconds: (performance.now() - t0) / 1000,
  };
}
