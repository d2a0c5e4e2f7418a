import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { isAlreadyExists, isConflict } from '../../src/kube/errors.ts';
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

/**
 * What `kubectl apply` of a federated object does to the fields a user sets: creates it, or sets its
 * spec (and labels/annotations when given) on the live object, keeping the finalizer and status the
 * controller wrote. A plain replace would drop the finalizer; conflicts with the controller's own
 * writes are retried.
 */
export async function applyFederated(host: KubernetesObjectApi, obj: FederatedObject): Promise<void> {
  try {
    await host.create(obj);
    return;
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  for (let attempt = 1; ; attempt++) {
    const live = (await host.read(obj as never)) as FederatedObject;
    try {
      await host.replace({
        ...live,
        metadata: {
          ...live.metadata,
          labels: obj.metadata?.labels ?? live.metadata?.labels,
          annotations: obj.metadata?.annotations ?? live.metadata?.annotations,
        },
        spec: obj.spec,
      });
      return;
    } catch (e) {
      if (!isConflict(e) || attempt >= 10) throw e;
    }
  }
}

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
  await applyFederated(host, federatedNamespace(ns, clusters));
  for (const c of clusters)
    await waitFor(`namespace ${ns} in ${c}`, () => read(member[c]!, 'v1', 'Namespace', ns));
}
