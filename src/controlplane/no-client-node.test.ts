import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// `fedctl controller` must never load @kubernetes/client-node: importing it costs ~90 MiB of RSS and
// ~35 MiB of V8 heap. A child Node refuses to resolve it (a module resolve hook), imports the control
// plane, runs the CLI's paths that lead to the controller, and reports what happened.
const CHILD = `
import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) {
    if (specifier.includes('@kubernetes/client-node'))
      throw new Error('refused: @kubernetes/client-node imported by ' + context.parentURL);
    return next(specifier, context);
  },
});
const src = (p) => new URL('../' + p, ${JSON.stringify(import.meta.url)}).href;
const report = {};
const attempt = async (name, fn) => {
  try {
    report[name] = await fn();
  } catch (e) {
    report[name] = 'threw: ' + e.message;
  }
};
await attempt('run.ts', async () => Object.keys(await import(src('controlplane/run.ts'))).length > 0);
const { run } = await import(src('cli/index.ts'));
const out = [];
const ctx = (await import(src('cli/options.ts'))).processContext('0.0.0');
const cli = (...args) => run(['node', 'fedctl', ...args], { ...ctx, stdout: (t) => out.push(t), stderr: (t) => out.push(t) });
await attempt('--help', () => cli('--help'));
await attempt('controller --help', () => cli('controller', '--help'));
// The action loads the controller's modules first, then fails on the missing kubeconfig (exit 2).
await attempt('controller', () => cli('controller', '--kubeconfig', '/nonexistent/kubeconfig', '--metrics-port', '0'));
report.output = out.join('');
// The hook works: what does need client-node is refused.
await attempt('bridge', () => import(src('kube/client-node-bridge.ts')).then(() => 'loaded'));
process.stdout.write(JSON.stringify(report));
`;

describe('fedctl controller without @kubernetes/client-node', () => {
  it('imports the control plane and runs the controller command paths without resolving it', () => {
    const report = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', CHILD], {
        encoding: 'utf8',
        timeout: 60_000,
      }),
    );
    expect(report).toMatchObject({ 'run.ts': true, '--help': 0, 'controller --help': 0, controller: 2 });
    expect(report.output).toContain('Run the host controller');
    expect(report.output).toContain('cannot load kubeconfig /nonexistent/kubeconfig');
    expect(report.bridge).toMatch(
      /^threw: refused: @kubernetes\/client-node imported by .*client-node-bridge\.ts/,
    );
  });
});
