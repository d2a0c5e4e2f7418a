// The object fedctl wants in one member cluster: the template of the federated object, named like
// the federated object, typed like the target, labelled managed, with the cluster's overrides.

import type { Operation } from 'fast-json-patch';
import { MANAGED_LABEL } from '../api/constants.ts';
import type { FederatedObject, KubeObject, ObjectMeta } from '../api/types.ts';
import { applyOverrides } from './overrides.ts';

/** The target type as the sync controller knows it from the FederatedTypeConfig. */
export interface DesiredTarget {
  /** `<group>/<version>`, or `<version>` for the core group. */
  apiVersion: string;
  kind: string;
  namespaced: boolean;
}

/**
 * Template metadata that cannot be carried over: identity and server-owned fields belong to each
 * member object; finalizers in a template would block deletion in members where no controller
 * removes them (KubeFed dropped them too); owner UIDs differ per cluster.
 */
const DROPPED_TEMPLATE_METADATA: readonly (keyof ObjectMeta)[] = [
  'name',
  'generateName',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
  'finalizers',
  'ownerReferences',
];

/**
 * Builds the desired member object. Name (and namespace, for namespaced targets) come from the
 * federated object; a cluster-scoped target has no namespace, so a FederatedNamespace `x` (which
 * lives in namespace `x`) yields Namespace `x`. apiVersion and kind come from the target type (a
 * template's own apiVersion is ignored: the member is written at the type config's version).
 * Overrides are applied last; identity and the managed label are then asserted again, so an
 * override of `/metadata` or `/metadata/labels` cannot detach the member from fedctl.
 * Never mutates its inputs. Throws OverrideError when an override does not apply.
 */
export function desiredObject(
  fed: FederatedObject,
  target: DesiredTarget,
  ops: readonly Operation[] = [],
  cluster?: string,
): KubeObject {
  const template = (isObject(fed.spec?.template) ? structuredClone(fed.spec.template) : {}) as KubeObject;
  const { status: _status, ...body } = template;
  const metadata: ObjectMeta = { ...(isObject(body.metadata) ? body.metadata : {}) };
  for (const field of DROPPED_TEMPLATE_METADATA) delete metadata[field];

  const base: KubeObject = {
    ...body,
    apiVersion: target.apiVersion,
    kind: target.kind,
    metadata: {
      ...identity(fed, target),
      ...metadata,
      labels: { ...metadata.labels, [MANAGED_LABEL]: 'true' },
    },
  };
  if (ops.length === 0) return base;

  const patched = applyOverrides(base, ops, cluster);
  const meta: ObjectMeta = isObject(patched.metadata) ? patched.metadata : {};
  delete meta.generateName;
  delete meta.namespace;
  patched.kind = target.kind;
  patched.metadata = {
    ...meta,
    ...identity(fed, target),
    labels: { ...(isObject(meta.labels) ? meta.labels : {}), [MANAGED_LABEL]: 'true' },
  };
  return patched;
}

function identity(fed: FederatedObject, target: DesiredTarget): ObjectMeta {
  const name = fed.metadata?.name;
  if (!name) throw new Error('federated object has no metadata.name');
  if (!target.namespaced) return { name };
  const namespace = fed.metadata.namespace;
  if (!namespace) {
    throw new Error(`federated object ${name} has no namespace, but its target ${target.kind} is namespaced`);
  }
  return { name, namespace };
}

function isObject(v: unknown): v is Record<string, never> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
