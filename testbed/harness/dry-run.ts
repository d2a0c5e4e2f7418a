import type { KubernetesObject } from '@kubernetes/client-node';
import { discoverResource } from '../../src/kube/discovery.ts';
import { isAlreadyExists } from '../../src/kube/errors.ts';
import type { KubeConfig } from '../../src/kube/kubeconfig.ts';
import { createResource } from '../../src/kube/resources.ts';

/**
 * Has a real API server validate every object with a server-side dry run and strict field
 * validation (unknown or duplicate fields are errors). Namespaces are created for real, so the
 * namespaced objects after them can be validated inside them; `namespaces` names more to create
 * first (a Helm release's namespace, which its templates do not contain).
 */
export async function dryRunCreate(
  kc: KubeConfig,
  docs: readonly KubernetesObject[],
  namespaces: readonly string[] = [],
): Promise<void> {
  const ns = { group: '', version: 'v1', kind: 'Namespace' };
  for (const name of namespaces) {
    await createResource(kc, await discoverResource(kc, ns), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
    }).catch((e) => {
      if (!isAlreadyExists(e)) throw e;
    });
  }
  for (const doc of docs) {
    const [group, version] = doc.apiVersion?.includes('/') ? doc.apiVersion.split('/') : ['', doc.apiVersion];
    const ref = await discoverResource(kc, {
      group: group ?? '',
      version: version ?? '',
      kind: doc.kind ?? '',
    });
    try {
      await createResource(kc, ref, doc, { dryRun: doc.kind !== 'Namespace', fieldValidation: 'Strict' });
    } catch (e) {
      throw new Error(
        `${doc.kind} ${doc.metadata?.namespace ? `${doc.metadata.namespace}/` : ''}${doc.metadata?.name}: rejected by the API server: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  }
}
