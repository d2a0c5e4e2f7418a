// `fedctl federate TYPE NAME`: turn existing host objects into Federated<Kind> objects. Flags are
// kubefedctl v0.10's: -n (default: the context's namespace), -c/--contents, -s/--skip-api-resources,
// -t/--enable-type, -f/--filename (offline: YAML in, federated YAML out), -o yaml, --dry-run.

import { readFileSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import type { FederatedTypeConfig } from '../api/types.ts';
import type { EnsureOutcome } from '../kube/apply.ts';
import { FTC_REF } from '../kube/refs.ts';
import { federatedFrom, isGeneratedObject } from '../propagation/federate.ts';
import { dryRunOption } from './compat.ts';
import {
  type CliContext,
  defaultNamespace,
  type GlobalOptions,
  globalOptions,
  hostClients,
  UserError,
  usageError,
} from './options.ts';
import { toYaml } from './output.ts';

interface FederateFlags {
  namespace?: string;
  contents: boolean;
  enableType: boolean;
  skipApiResources: string[];
  filename?: string;
  dryRun: boolean;
}

/** What `fedctl federate` does, from its argv. */
export interface FederateInvocation {
  /** -f: federate the objects of a file, print them, contact no cluster. */
  filename?: string;
  type?: string;
  name?: string;
  namespace: string;
  contents: boolean;
  enableType: boolean;
  skip: string[];
  dryRun: boolean;
  /** -o yaml|json: print instead of creating. */
  print?: 'yaml' | 'json';
}

export function federateInvocation(
  type: string | undefined,
  name: string | undefined,
  flags: FederateFlags,
  g: GlobalOptions,
  contextNamespace: () => string,
): FederateInvocation {
  const print = g.output === 'yaml' || g.output === 'json' ? g.output : undefined;
  if (flags.filename) {
    if (type !== undefined)
      throw usageError(
        `-f/--filename takes no TYPE or NAME (got: ${[type, name].filter(Boolean).join(' ')})`,
      );
    return {
      filename: flags.filename,
      namespace: flags.namespace ?? '',
      contents: false,
      enableType: false,
      skip: [],
      dryRun: flags.dryRun,
      print: print ?? 'yaml',
    };
  }
  if (!type || !name) throw usageError('federate needs TYPE and NAME (or -f FILE)');
  if (flags.enableType && print) throw usageError('--enable-type cannot be used with -o yaml/json');
  return {
    type,
    name,
    namespace: flags.namespace ?? contextNamespace(),
    contents: flags.contents,
    enableType: flags.enableType,
    skip: flags.skipApiResources,
    dryRun: flags.dryRun,
    ...(print ? { print } : {}),
  };
}

/**
 * `-s` names as kubefedctl matched them: a group (`apps` skips the whole group), a plural, a kind, or
 * a group-qualified plural, case-insensitive.
 */
export function skippedBy(skip: readonly string[], ftc: FederatedTypeConfig): boolean {
  const t = ftc.spec.targetType;
  const group = t.group ?? '';
  const names = [t.pluralName, t.kind, group ? `${t.pluralName}.${group}` : t.pluralName].map((n) =>
    n.toLowerCase(),
  );
  return skip.some((s) => {
    const w = s.toLowerCase();
    return w !== '' && ((group !== '' && w === group) || names.includes(w));
  });
}

/**
 * kubefedctl keeps only the labels of a source object's metadata in the template: annotations (and
 * everything else) are set in members by the system and their controllers, and KubeFed never
 * propagated template annotations.
 */
function labelsOnly(fed: KubernetesObject): KubernetesObject {
  const template = (fed as { spec?: { template?: { metadata?: Record<string, unknown> } } }).spec?.template;
  if (template?.metadata) {
    const labels = template.metadata.labels;
    if (labels) template.metadata = { labels };
    else delete template.metadata;
  }
  return fed;
}

const csv = (v: string, prev: string[]) => [...prev, ...v.split(',').map((s) => s.trim())];

export function register(program: Command, ctx: CliContext): void {
  program
    .command('federate')
    .description(
      `Create the Federated<Kind> for an existing object in the host, placed on every cluster. With
--contents on a namespace, also federate every object of every enabled namespaced type inside it
(objects owned by others, like ReplicaSets of a Deployment, and generated ones are skipped).
With -o yaml, print the federated objects instead of creating them; with -f, federate the objects in
a YAML file and print them, without contacting any cluster.`,
    )
    .argument('[type]', 'the target type: namespaces, configmaps, deployments.apps, …')
    .argument('[name]', 'the object to federate')
    .option(
      '-n, --namespace <namespace>',
      "namespace of the object (default: the context's namespace, else default)",
    )
    .option('-c, --contents', 'for a namespace: federate its contents too', false)
    .option(
      '-s, --skip-api-resources <names>',
      'with --contents: types to skip, comma-separated (plural, kind, plural.group, or a group)',
      csv,
      [],
    )
    .option('-t, --enable-type', 'enable the type first if it is not enabled yet', false)
    .option(
      '-f, --filename <file>',
      'federate the objects in this YAML file and print them (no cluster is contacted)',
    )
    .addOption(dryRunOption())
    .addHelpText(
      'after',
      '\nExamples:\n  fedctl federate namespaces test --contents -s secrets\n  fedctl federate deployments.apps web -n test -o yaml > federated-web.yaml\n  fedctl federate -f web.yaml > federated-web.yaml',
    )
    .action(
      async (type: string | undefined, name: string | undefined, flags: FederateFlags, cmd: Command) => {
        const g = globalOptions(cmd);
        const inv = federateInvocation(type, name, flags, g, () => defaultNamespace(ctx, g));
        if (inv.filename) {
          ctx.stdout(print(federateFile(inv.filename), inv.print ?? 'yaml'));
          return;
        }
        const { clients } = hostClients(ctx, g);
        const { enableType, findTypeConfig, NoTypeConfigError } = await import(
          '../controlplane/typeconfigs.ts'
        );
        const { ensureObject } = await import('../kube/apply.ts');
        const { getResource, listResource, tryGetResource } = await import('../kube/resources.ts');
        const { refsOf } = await import('../propagation/controller.ts');
        const { needsUpdate } = await import('../propagation/equality.ts');
        const typeName = inv.type ?? '';
        let ftc = await findTypeConfig(clients, g.kubefedNamespace, typeName).catch((e: Error) =>
          inv.enableType && e instanceof NoTypeConfigError && !inv.dryRun
            ? undefined
            : Promise.reject(
                new UserError(
                  e instanceof NoTypeConfigError ? `${e.message}, or pass --enable-type` : e.message,
                ),
              ),
        );
        if (!ftc) {
          await enableType(clients, g.kubefedNamespace, typeName);
          ctx.stderr(`enabled type ${typeName}\n`);
          ftc = await findTypeConfig(clients, g.kubefedNamespace, typeName);
        }
        const { target } = refsOf(ftc);
        const namespace = target.namespaced ? inv.namespace : undefined;
        const source = await getResource(clients.kc, target, inv.name ?? '', namespace).catch(() => {
          throw new UserError(
            `${target.kind} ${namespace ? `${namespace}/` : ''}${inv.name} not found in the host cluster`,
          );
        });
        const pairs: Array<{ ftc: FederatedTypeConfig; obj: KubernetesObject }> = [{ ftc, obj: source }];
        if (inv.contents) {
          if (target.kind !== 'Namespace') throw new UserError('--contents applies to namespaces only');
          const { items } = await listResource(clients.kc, FTC_REF, { namespace: g.kubefedNamespace });
          for (const other of items as unknown as FederatedTypeConfig[]) {
            const refs = refsOf(other);
            if (!refs.target.namespaced || other.spec.propagation !== 'Enabled') continue;
            if (skippedBy(inv.skip, other)) continue;
            const list = await listResource(clients.kc, refs.target, { namespace: inv.name });
            for (const obj of list.items) if (!isGeneratedObject(obj)) pairs.push({ ftc: other, obj });
          }
        }
        const federatedObjects = pairs.map(({ ftc: f, obj }) => ({
          ref: refsOf(f).federated,
          obj: labelsOnly(federatedFrom(obj, f.spec.federatedType.kind)),
        }));
        if (inv.print) {
          ctx.stdout(
            print(
              federatedObjects.map((f) => f.obj),
              inv.print,
            ),
          );
          return;
        }
        for (const f of federatedObjects) {
          let outcome: EnsureOutcome;
          if (inv.dryRun) {
            const live = await tryGetResource(
              clients.kc,
              f.ref,
              f.obj.metadata?.name ?? '',
              f.obj.metadata?.namespace,
            );
            outcome = !live ? 'created' : needsUpdate(f.obj, live) ? 'updated' : 'unchanged';
          } else outcome = await ensureObject(clients.kc, f.ref, f.obj);
          const ns = f.obj.metadata?.namespace;
          ctx.stdout(
            `${f.obj.kind} ${ns ? `${ns}/` : ''}${f.obj.metadata?.name} ${outcome}${inv.dryRun ? ' (dry run)' : ''}\n`,
          );
        }
      },
    );
}

function print(docs: KubernetesObject[], format: 'yaml' | 'json'): string {
  return format === 'json'
    ? `${JSON.stringify(docs.length === 1 ? docs[0] : { apiVersion: 'v1', kind: 'List', items: docs }, null, 2)}\n`
    : docs.map(toYaml).join('---\n');
}

/** kubefedctl federate -f: every object of the file as its Federated<Kind>, offline. */
export function federateFile(path: string, read: (p: string) => string = (p) => readFileSync(p, 'utf8')) {
  let text: string;
  try {
    text = read(path);
  } catch (e) {
    throw usageError(`cannot read ${path}: ${(e as Error).message}`);
  }
  const docs = parseAllDocuments(text);
  const objects: KubernetesObject[] = [];
  for (const [i, d] of docs.entries()) {
    if (d.errors.length > 0) throw usageError(`${path}: document ${i + 1}: ${d.errors[0]?.message}`);
    const o = d.toJS() as KubernetesObject | null;
    if (!o) continue;
    if (!o.kind || !o.metadata?.name)
      throw usageError(`${path}: document ${i + 1} has no kind or metadata.name`);
    objects.push(labelsOnly(federatedFrom(o)));
  }
  return objects;
}
