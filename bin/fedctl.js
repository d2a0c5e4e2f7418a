#!/usr/bin/env node
// The package's bin. An installed package runs the compiled bundle (dist/bundle/fedctl.js and the
// chunks it loads on demand, built by prepack); a checkout (src/ present: the package ships no src/) runs the TypeScript sources
// directly, so development has no build step. `npx fedctl` in a checkout puts node_modules/.bin, with
// the Node 22 of the `node` devDependency, first on PATH.
import { existsSync } from 'node:fs';
import module from 'node:module';

// 22.19: undici (fedctl's HTTP client) needs it; the sources' type stripping needs 22.18.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `fedctl needs Node >= 22.19 (found v${process.versions.node} at ${process.execPath}); install a newer Node, or from a checkout run it through npx or npm run.\n`,
  );
  process.exit(1);
}

// V8's code cache on disk (in the OS temp folder): a start then skips most of the parsing and
// compiling of the bundle. Best effort: a read-only temp folder only makes starts slower.
module.enableCompileCache?.();

// -v prints stack traces: map the minified bundle's frames back to the sources (costs a start).
if (process.argv.includes('-v') || process.argv.includes('--verbose')) process.setSourceMapsEnabled(true);

const sources = new URL('../src/cli/index.ts', import.meta.url);
await import(existsSync(sources) ? sources.href : new URL('../dist/bundle/fedctl.js', import.meta.url).href);
