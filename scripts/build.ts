// Builds what the npm package ships (run by `prepack`, or `npm run build`):
//   dist/**.js, dist/**.d.ts   tsc's per-module JavaScript and declarations (the importable API)
//   dist/bundle/fedctl.js      the CLI's entry, dependencies included, which bin/fedctl.js runs, and
//   dist/bundle/chunks/*.js    the chunks it loads on demand
// Node refuses to strip types under node_modules, so an installed package needs JavaScript; the
// bundle is what makes a start fast: resolving and reading hundreds of small files one by one costs
// most of it. Split into chunks at the CLI's dynamic imports, so each command loads only its own code:
// `fedctl controller` and `fedctl --help` never evaluate @kubernetes/client-node (~90 MiB of RSS),
// which only join/unjoin/enable and legacy auth-providers load.
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { build } from 'rolldown';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
// Same depth below the package root as src/cli/index.ts: the entry finds ../../package.json (its
// version) and ../../bin/fedctl.js (is it the entry point?) relative to its own URL.
export const BUNDLE = join(dist, 'bundle', 'fedctl.js');

function step(msg: string): void {
  process.stderr.write(`[build] ${msg}\n`);
}

rmSync(dist, { recursive: true, force: true });

let t0 = performance.now();
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  });
} catch {
  throw new Error('build: tsc -p tsconfig.build.json failed (its errors are above)');
}
step(`tsc → dist/ in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

t0 = performance.now();
await build({
  input: join(root, 'src', 'cli', 'index.ts'),
  platform: 'node',
  // Minified: less to decode and compile at every start (about a quarter of the start time). The
  // source maps give readable stack traces: bin/fedctl.js turns source maps on with -v. Legal
  // comments of the bundled dependencies are kept.
  output: {
    dir: dirname(BUNDLE),
    entryFileNames: basename(BUNDLE),
    chunkFileNames: 'chunks/[name]-[hash].js',
    format: 'esm',
    minify: true,
    sourcemap: true,
    comments: { legal: true },
  },
  logLevel: 'warn',
});
const chunks = readdirSync(join(dirname(BUNDLE), 'chunks')).filter((f) => f.endsWith('.js'));
const size = (f: string) => statSync(f).size;
step(
  `bundle → ${BUNDLE.slice(root.length + 1)} (${(size(BUNDLE) / 1e6).toFixed(1)} MB) + ${chunks.length} chunks (${(chunks.reduce((n, f) => n + size(join(dirname(BUNDLE), 'chunks', f)), 0) / 1e6).toFixed(1)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
