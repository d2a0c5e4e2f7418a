import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { booleanFlags, normalizeArgv } from './compat.ts';
import { disableOptions, enableInvocation } from './enable.ts';
import { federateInvocation, skippedBy } from './federate.ts';
import { buildProgram } from './index.ts';
import { joinInvocation } from './join.ts';
import { type CliContext, type GlobalOptions, globalOptions } from './options.ts';

// argv → options for every kubefedctl v0.10 flag of join, unjoin, enable, disable, federate,
// orphaning-deletion and version: the real commander program parses the (normalised) argv, the
// command's action is swapped for a recorder, and the command's own pure mapping builds the options.

const ctx: CliContext = {
  stdout: () => {},
  stderr: () => {},
  connect: () => {
    throw new Error('no cluster in argv tests');
  },
  currentContext: () => 'cluster0',
  contextNamespace: () => 'ctxns',
  version: '0.0.0',
};

interface Parsed {
  args: unknown[];
  flags: Record<string, unknown>;
  g: GlobalOptions;
}

async function parse(argv: string[]): Promise<Parsed> {
  const program = buildProgram(ctx);
  let parsed: Parsed | undefined;
  const record = (cmd: Command) => {
    cmd.action((...a: unknown[]) => {
      const sub = a.at(-1) as Command;
      parsed = { args: a.slice(0, -2), flags: a.at(-2) as Record<string, unknown>, g: globalOptions(sub) };
    });
    for (const c of cmd.commands) record(c);
  };
  for (const c of program.commands) record(c);
  await program.parseAsync(normalizeArgv(['node', 'fedctl', ...argv], booleanFlags(program)));
  if (!parsed) throw new Error(`no action ran for ${argv.join(' ')}`);
  return parsed;
}

const join = async (...argv: string[]) => {
  const p = await parse(['join', ...argv]);
  return joinInvocation(p.args[0] as string, p.flags as never, p.g, p.g.hostClusterContext ?? 'cluster0');
};

describe('normalizeArgv', () => {
  const bools = { negatable: new Set(['error-on-existing']), plain: new Set(['dry-run', 'delete-crd']) };
  it.each([
    [['--log_dir=/tmp'], ['--log-dir=/tmp']],
    [
      ['--kubefed_namespace', 'a_b'],
      ['--kubefed-namespace', 'a_b'],
    ],
    [['--error-on-existing=false'], ['--no-error-on-existing']],
    [['--error-on-existing=true'], ['--error-on-existing']],
    [['--error_on_existing=0'], ['--no-error-on-existing']],
    [['--dry-run=true'], ['--dry-run']],
    [['--dry-run=false'], []],
    [['--v=2'], ['--v=2']],
    [['-v=3'], ['--v=3']],
    [['-v4'], ['--v=4']],
    [
      ['-v', '2', 'x'],
      ['--v=2', 'x'],
    ],
    [
      ['-v', 'x'],
      ['-v', 'x'],
    ],
    [
      ['--', '--a_b=false'],
      ['--', '--a_b=false'],
    ],
  ])('%j → %j', (input, want) => {
    expect(normalizeArgv(input, bools)).toEqual(want);
  });
});

describe('join argv', () => {
  it.each([
    [
      ['cluster1'],
      {
        clusterName: 'cluster1',
        memberContext: 'cluster1',
        hostClusterName: 'cluster0',
        errorOnExisting: true,
        dryRun: false,
        rbac: 'full',
        kubefedNamespace: 'kube-federation-system',
      },
    ],
    [['cluster1', '--cluster-context', 'kind-c1'], { memberContext: 'kind-c1' }],
    [['cluster1', '--host-cluster-context', 'h'], { hostClusterName: 'h' }],
    [['cluster1', '--host-cluster-name', 'hosta'], { hostClusterName: 'hosta' }],
    [['cluster1', '--secret-name', 's1'], { secretName: 's1' }],
    [['cluster1', '--dry-run'], { dryRun: true }],
    [['cluster1', '--error-on-existing=false'], { errorOnExisting: false }],
    [['cluster1', '--no-error-on-existing'], { errorOnExisting: false }],
    [['cluster1', '--error-on-existing'], { errorOnExisting: true }],
    [['cluster1', '--kubefed-namespace', 'foo'], { kubefedNamespace: 'foo' }],
    [['cluster1', '--kubefed_namespace=foo'], { kubefedNamespace: 'foo' }],
    [['cluster1', '--rbac=minimal'], { rbac: 'minimal' }],
    [['cluster1', '--api-endpoint', 'https://1.2.3.4:6443'], { apiEndpoint: 'https://1.2.3.4:6443' }],
  ])('%j', async (argv, want) => {
    expect(await join(...argv)).toMatchObject(want);
  });

  it('takes the seed walkthrough line as kubefedctl did, with --v=2 meaning -v', async () => {
    const p = await parse([
      'join',
      'cluster0',
      '--cluster-context',
      'cluster0',
      '--host-cluster-context',
      'cluster0',
      '--v=2',
    ]);
    expect(p.g.verbose).toBe(true);
    expect(joinInvocation('cluster0', p.flags as never, p.g, 'cluster0')).toMatchObject({
      clusterName: 'cluster0',
      memberContext: 'cluster0',
      hostClusterName: 'cluster0',
    });
    expect((await parse(['join', 'c', '--v=1'])).g.verbose).toBe(false);
  });

  it('accepts the klog flags kubefedctl has on every command', async () => {
    const p = await parse([
      'join',
      'c',
      '--logtostderr=true',
      '--log_file=/tmp/x',
      '--vmodule',
      'a=1',
      '--skip_headers',
    ]);
    expect(p.flags).toBeDefined();
  });

  it.each([
    [['bad_name'], 'not a valid RFC 1123 subdomain'],
    [['c', '--host-cluster-name', 'a:b'], 'may not contain'],
    [['c', '--api-endpoint', 'ftp://x'], 'not an http(s) URL'],
  ])('refuses %j', async (argv, msg) => {
    await expect(join(...argv)).rejects.toThrow(msg);
  });

  it('refuses an unknown --rbac mode at parse time', async () => {
    await expect(parse(['join', 'c', '--rbac', 'admin'])).rejects.toThrow();
  });
});

describe('unjoin argv', () => {
  it.each([
    [['c1'], { force: false, dryRun: false }],
    [
      ['c1', '--force', '--dry-run', '--cluster-context', 'x', '--host-cluster-name', 'h'],
      { force: true, dryRun: true, clusterContext: 'x', hostClusterName: 'h' },
    ],
    [['c1', '--force=true'], { force: true }],
  ])('%j', async (argv, want) => {
    expect((await parse(['unjoin', ...argv])).flags).toMatchObject(want);
  });
});

describe('enable argv', () => {
  const enable = async (...argv: string[]) => {
    const p = await parse(['enable', ...argv]);
    return enableInvocation(
      p.args[0] as string | undefined,
      p.flags as never,
      p.g,
      () =>
        'kind: EnableTypeDirective\nmetadata: {name: widgets.example.com}\nspec: {targetVersion: v2, federatedGroup: fed.example.com}\n',
    );
  };
  it.each([
    [
      ['deployments.apps'],
      {
        type: 'deployments.apps',
        options: { federatedGroup: 'types.kubefed.io', federatedVersion: 'v1beta1' },
      },
    ],
    [['deployments.apps', '--federated-group', 'g.io'], { options: { federatedGroup: 'g.io' } }],
    [['deployments.apps', '--federated-version', 'v2'], { options: { federatedVersion: 'v2' } }],
    [['deployments.apps', '--version', 'v1'], { options: { targetVersion: 'v1' } }],
    [['deployments.apps', '--dry-run'], { options: { dryRun: true } }],
    [['deployments.apps', '-o', 'yaml'], { print: 'yaml', options: { printOnly: true } }],
    [['deployments.apps', '-o', 'yaml', '--dry-run'], { print: 'yaml', options: { printOnly: true } }],
    [
      ['-f', 'directive.yaml'],
      {
        type: 'widgets.example.com',
        options: { targetVersion: 'v2', federatedGroup: 'fed.example.com', federatedVersion: 'v1beta1' },
      },
    ],
  ])('%j', async (argv, want) => {
    expect(await enable(...argv)).toMatchObject(want);
  });
  it('writes nothing with -o yaml: no dryRun outcomes are computed, the objects are only built', async () => {
    const inv = await enable('deployments.apps', '-o', 'yaml');
    expect(inv.options.printOnly).toBe(true);
    expect(inv.options.dryRun).toBeUndefined();
  });
  it('needs a type or -f', async () => {
    await expect(enable()).rejects.toThrow('enable needs TYPE');
  });
});

describe('disable argv', () => {
  const disable = async (...argv: string[]) =>
    disableOptions((await parse(['disable', ...argv])).flags as never);
  it.each([
    [['deployments.apps'], { deleteCrd: false, dryRun: false }],
    [['deployments.apps', '--delete-crd'], { deleteCrd: true }],
    [
      ['deployments.apps', '--delete-crd', '--version', 'v1', '--federated-group', 'g.io'],
      { deleteCrd: true, targetVersion: 'v1', federatedGroup: 'g.io' },
    ],
    [['deployments.apps', '--dry-run'], { dryRun: true }],
  ])('%j', async (argv, want) => {
    expect(await disable(...argv)).toMatchObject(want);
  });
  it.each([
    [['x', '--version', 'v1'], '--version is valid only with --delete-crd'],
    [['x', '--federated-group', 'g.io'], '--federated-group is valid only with --delete-crd'],
  ])('refuses %j like kubefedctl', async (argv, msg) => {
    await expect(disable(...argv)).rejects.toThrow(msg);
  });
});

describe('federate argv', () => {
  const federate = async (...argv: string[]) => {
    const p = await parse(['federate', ...argv]);
    return federateInvocation(p.args[0] as string, p.args[1] as string, p.flags as never, p.g, () => 'ctxns');
  };
  it.each([
    [
      ['configmaps', 'cm'],
      {
        type: 'configmaps',
        name: 'cm',
        namespace: 'ctxns',
        contents: false,
        enableType: false,
        skip: [],
        dryRun: false,
      },
    ],
    [['configmaps', 'cm', '-n', 'test'], { namespace: 'test' }],
    [['namespaces', 'test', '-c'], { contents: true }],
    [
      ['namespaces', 'test', '--contents', '-s', 'secrets,apps', '-s', 'configmaps'],
      { skip: ['secrets', 'apps', 'configmaps'] },
    ],
    [['namespaces', 'test', '--skip-api-resources=deploy'], { skip: ['deploy'] }],
    [['deployments.apps', 'web', '-t'], { enableType: true }],
    [['deployments.apps', 'web', '--enable-type'], { enableType: true }],
    [['deployments.apps', 'web', '-o', 'yaml'], { print: 'yaml' }],
    [['deployments.apps', 'web', '--dry-run'], { dryRun: true }],
    [['-f', 'in.yaml'], { filename: 'in.yaml', print: 'yaml' }],
  ])('%j', async (argv, want) => {
    expect(await federate(...argv)).toMatchObject(want);
  });
  it.each([
    [['x', 'y', '-t', '-o', 'yaml'], '--enable-type cannot be used with -o'],
    [['x', '-f', 'in.yaml'], 'takes no TYPE or NAME'],
    [['x'], 'federate needs TYPE and NAME'],
  ])('refuses %j', async (argv, msg) => {
    await expect(federate(...argv)).rejects.toThrow(msg);
  });
});

describe('orphaning-deletion and version argv', () => {
  it.each([
    [['orphaning-deletion', 'enable', 'FederatedDeployment', 'web'], { dryRun: false }],
    [['orphaning-deletion', 'disable', 'FederatedDeployment', 'web', '-n', 'test'], { namespace: 'test' }],
    [['orphaning-deletion', 'status', 'deployments.apps', 'web', '--dry-run'], { dryRun: true }],
    [['version', '--client'], { client: true }],
    [['version', '--v=2'], {}],
  ])('%j', async (argv, want) => {
    expect((await parse(argv)).flags).toMatchObject(want);
  });
});

describe('skippedBy', () => {
  const ftc = {
    spec: { targetType: { group: 'apps', pluralName: 'deployments', kind: 'Deployment', version: 'v1' } },
  } as never;
  it.each([
    [['apps'], true],
    [['deployments'], true],
    [['Deployment'], true],
    [['deployments.apps'], true],
    [['secrets'], false],
    [[''], false],
  ])('%j → %s', (skip, want) => {
    expect(skippedBy(skip, ftc)).toBe(want);
  });
});
