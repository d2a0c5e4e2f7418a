import type { KubernetesObject } from '@kubernetes/client-node';
import { apiVersionOf, TYPES_GROUP, TYPES_VERSION } from '../api/constants.ts';

// `fedctl federate`: turn an existing object into its Federated<Kind>. Pure, so the CLI and tests share it.

/** Metadata the API server owns; it would be rejected or meaningless in a template. */
const SERVER_METADATA = [
  'uid',
  'resourceVersion',
  'selfLink',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'generation',
  'managedFields',
  'ownerReferences',
  'finalizers',
] as const;

/** Annotations tools write that must not be propagated. */
const TOOL_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision'];

/** Fields each member cluster allocates for itself (copying them would collide or be refused). */
const CLUSTER_ALLOCATED: Record<string, (spec: Record<string, unknown>) => void> = {
  Service: (spec) => {
    delete spec.clusterIP;
    delete spec.clusterIPs;
    delete spec.healthCheckNodePort;
    for (const port of (spec.ports as Array<Record<string, unknown>> | undefined) ?? []) delete port.nodePort;
  },
  // Namespace finalizers are set by the API server.
  Namespace: (spec) => {
    delete spec.finalizers;
  },
  // The selector and template labels a Job controller generates are unique per object.
  Job: (spec) => {
    const selector = spec.selector as { matchLabels?: Record<string, string> } | undefined;
    if (selector?.matchLabels?.['controller-uid'] || selector?.matchLabels?.['batch.kubernetes.io/controller-uid']) delete spec.selector;
    const tmpl = spec.template as { metadata?: { labels?: Record<string, string> } } | undefined;
    for (const l of ['controller-uid', 'batch.kubernetes.io/controller-uid', 'job-name', 'batch.kubernetes.io/job-name']) delete tmpl?.metadata?.labels?.[l];
  },
};

/** The template of a Federated<Kind>: the object without server-owned and cluster-allocated fields. */
export function templateFrom(obj: KubernetesObject): Record<string, unknown> {
  const t = structuredClone(obj) as Record<string, unknown> & { metadata?: Record<string, unknown>; spec?: Record<string, unknown> };
  delete t.status;
  delete t.apiVersion;
  delete t.kind;
  const meta = (t.metadata ?? {}) as Record<string, unknown> & { annotations?: Record<string, string>; labels?: Record<string, string> };
  delete meta.name;
  delete meta.namespace;
  delete meta.generateName;
  for (const f of SERVER_METADATA) delete meta[f];
  for (const a of TOOL_ANNOTATIONS) delete meta.annotations?.[a];
  if (meta.annotations && Object.keys(meta.annotations).length === 0) delete meta.annotations;
  delete meta.labels?.['kubefed.io/managed'];
  if (meta.labels && Object.keys(meta.labels).length === 0) delete meta.labels;
  if (Object.keys(meta).length === 0) delete t.metadata;
  if (t.spec && obj.kind && CLUSTER_ALLOCATED[obj.kind]) CLUSTER_ALLOCATED[obj.kind]?.(t.spec);
  return t;
}

/**
 * The Federated<Kind> for an object, placed on every cluster (`clusterSelector: {}`), as kubefedctl
 * federate did. A Namespace's federated object lives in the namespace it federates.
 */
export function federatedFrom(obj: KubernetesObject, federatedKind = `Federated${obj.kind}`): KubernetesObject {
  const name = obj.metadata?.name ?? '';
  const namespace = obj.kind === 'Namespace' ? name : obj.metadata?.namespace;
  return {
    apiVersion: apiVersionOf(TYPES_GROUP, TYPES_VERSION),
    kind: federatedKind,
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec: { template: templateFrom(obj), placement: { clusterSelector: {} } },
  } as KubernetesObject;
}
