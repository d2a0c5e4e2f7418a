// `fedctl federate TYPE NAME`: turn existing host objects into Federated<Kind> objects.

import type { KubernetesObject } from '@kubernetes/client-node';
import type { Command } from 'commander';
import type { FederatedTypeConfig } from '../api/types.ts';
import { FTC_REF } from '../controlplane/type-manager.ts';
import { findTypeConfig } from '../controlplane/typeconfigs.ts';
import { ensureObject } from '../kube/apply.ts';
import { getResource, listResource } from '../kube/resources.ts';
import { refsOf } from '../propagation/controller.ts';
import { federatedFrom, isGeneratedObject } from '../propagation/federate.ts';
import { type CliContext, globalOptions, hostClients, UserError } from './options.ts';
import { toYaml } from './output.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('federate')
    .description(
      `Create the Federated<Kind> for an existing object in the host, placed on every cluster. With
--contents on a namespace, also federate every object of every enabled namespaced type inside it
(objects owned by others, like ReplicaSets of a Deployment, and generated ones are skipped).
With -o yaml, print the federated objects instead of creating them.`,
    )
    .argument('<type>', 'the target type: namespaces, configmaps, deployments.apps, …')
    .argument('<name>', 'the object to federate')
    .option('-n, --namespace <namespace>', 'namespace of the object', 'default')
    .option('--contents', 'for a namespace: federate its contents too', false)
    .addHelpText(
      'after',
      '\nExamples:\n  fedctl federate namespaces test --contents\n  fedctl federate deployments.apps web -n test -o yaml > federated-web.yaml',
    )
    .action(
      async (type: string, name: string, opts: { namespace: string; contents: boolean }, cmd: Command) => {
        const g = globalOptions(cmd);
        const { clients } = hostClients(ctx, g);
        const ftc = await findTypeConfig(clients, g.kubefedNamespace, type).catch((e: Error) => {
          throw new UserError(e.message);
        });
        const { target } = refsOf(ftc);
        const namespace = target.namespaced ? opts.namespace : undefined;
        const source = await getResource(clients.kc, target, name, namespace).catch(() => {
          throw new UserError(
            `${target.kind} ${namespace ? `${namespace}/` : ''}${name} not found in the host cluster`,
          );
        });
        const pairs: Array<{ ftc: FederatedTypeConfig; obj: KubernetesObject }> = [{ ftc, obj: source }];
        if (opts.contents) {
          if (target.kind !== 'Namespace') throw new UserError('--contents applies to namespaces only');
          const { items } = await listResource(clients.kc, FTC_REF, { namespace: g.kubefedNamespace });
          for (const other of items as unknown as FederatedTypeConfig[]) {
            const refs = refsOf(other);
            if (!refs.target.namespaced || other.spec.propagation !== 'Enabled') continue;
            const list = await listResource(clients.kc, refs.target, { namespace: name });
            for (const obj of list.items) if (!isGeneratedObject(obj)) pairs.push({ ftc: other, obj });
          }
        }
        const federatedObjects = pairs.map(({ ftc: f, obj }) => ({
          ref: refsOf(f).federated,
          obj: federatedFrom(obj, f.spec.federatedType.kind),
        }));
        if (g.output === 'yaml' || g.output === 'json') {
          const docs = federatedObjects.map((f) => f.obj);
          ctx.stdout(
            g.output === 'json'
              ? `${JSON.stringify(docs.length === 1 ? docs[0] : { apiVersion: 'v1', kind: 'List', items: docs }, null, 2)}\n`
              : docs.map(toYaml).join('---\n'),
          );
          return;
        }
        for (const f of federatedObjects) {
          const outcome = await ensureObject(clients.kc, f.ref, f.obj);
          const ns = f.obj.metadata?.namespace;
          ctx.stdout(`${f.obj.kind} ${ns ? `${ns}/` : ''}${f.obj.metadata?.name} ${outcome}\n`);
        }
      },
    );
}
