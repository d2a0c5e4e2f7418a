#!/usr/bin/env node
// The package's bin. Node >= 22.18 runs the TypeScript sources directly (type stripping), so there
// is no build step; `npx fedctl` puts node_modules/.bin (with the Node 22 from the `node` package) first.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `fedctl needs Node >= 22.18 (found ${process.version}); run it through npx or npm run.\n`,
  );
  process.exit(1);
}
await import('../src/cli/index.ts');
