import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { apply, read } from './kube.ts';
import { waitFor } from './wait.ts';

// Reading federated objects and member copies the way a user checks them: status conditions,
// per-cluster entries, the managed label, UIDs.

export const TYPES = 'types.kubefed.io/v1beta1';
export const MANAGED = 'kubefed.io/managed';

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export type FederatedObject = KubernetesObject & {
  spec?: Record<string, unknown>;
  status?: {
    conditions?: Condition[];
    clusters?: Array<{ name: string; status?: string; message?: string }>;
  };
};

export const readFederated = (host: KubernetesObjectApi, kind: string, name: string, namespace?: string) =>
  read<FederatedObject>(host, TYPES, kind, name, namespace);

export const propagationOf = (o: FederatedObject | undefined) =>
  o?.status?.conditions?.find((c) => c.type === 'Propagation');

export const isPropagated = (o: FederatedObject | undefined) => propagationOf(o)?.status === 'True';

export const managedLabel = (o: KubernetesObject | undefined) => o?.metadata?.labels?.[MANAGED];

export const uidOf = (o: KubernetesObject | undefined) => o?.metadata?.uid;

/** A Federated<kind> with an explicit cluster list. */
export function federated(
  kind: string,
  name: string,
  namespace: string | undefined,
  template: Record<string, unknown>,
  clusters: readonly string[],
  extra: { spec?: Record<string, unknown>; annotations?: Record<string, string> } = {},
): FederatedObject {
  return {
    apiVersion: TYPES,
    kind: `Federated${kind}`,
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    spec: {
      template: structuredClone(template),
      placement: { clusters: clusters.map((c) => ({ name: c })) },
      ...extra.spec,
    },
  };
}

/** A FederatedNamespace placed on `clusters` (its name is its namespace unless `name` says otherwise). */
export const federatedNamespace = (namespace: string, clusters: readonly string[], name = namespace) =>
  federated('Namespace', name, namespace, {}, clusters);

/** Creates namespace `ns` in the host, federates it to `clusters` and waits until each has it. */
export async function federateNamespace(
  host: KubernetesObjectApi,
  member: Record<string, KubernetesObjectApi>,
  ns: string,
  clusters: readonly string[],
): Promise<void> {
  await apply(host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await apply(host, federatedNamespace(ns, clusters));
  for (const c of clusters)
    await waitFor(`namespace ${ns} in ${c}`, () => read(member[c]!, 'v1', 'Namespace', ns));
}
