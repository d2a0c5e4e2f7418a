// FederatedTypeConfigs: which target types fedctl federates, and the Federated<Kind> type for each.
// Names and shapes follow `kubefedctl enable` so that KubeFed's FTCs and fedctl's are interchangeable.

import {
  CORE_GROUP,
  CORE_VERSION,
  DEFAULT_KUBEFED_NAMESPACE,
  TYPES_GROUP,
  TYPES_VERSION,
} from './constants.ts';
import type { APIResource, FederatedTypeConfig, ResourceScope } from './types.ts';

/** A target type as discovery describes it. `group` is '' for the core group. */
export interface TargetType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  scope: ResourceScope;
  /** The target has an int32 `spec.replicas` (KubeFed then offers `spec.retainReplicas`). */
  scalable?: boolean;
}

/**
 * A target type as its member objects carry it: the apiVersion and kind stamped on every copy, and
 * whether copies live in a namespace.
 */
export interface MemberTarget {
  /** `<group>/<version>`, or `<version>` for the core group. */
  apiVersion: string;
  kind: string;
  namespaced: boolean;
}

/** The types `kubefedctl enable` enabled by default in KubeFed v0.10's Helm chart, all at v1. */
export const DEFAULT_TARGET_TYPES: readonly TargetType[] = Object.freeze([
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', scope: 'Cluster' },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', scope: 'Namespaced' },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', scope: 'Namespaced' },
  { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', scope: 'Namespaced' },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', scope: 'Namespaced' },
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    scope: 'Namespaced',
    scalable: true,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    scope: 'Namespaced',
    scalable: true,
  },
  { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', scope: 'Namespaced' },
  { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', plural: 'ingresses', scope: 'Namespaced' },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'ClusterRole',
    plural: 'clusterroles',
    scope: 'Cluster',
  },
] satisfies TargetType[]);

/** `<plural>.<group>`, or `<plural>` for the core group: the FTC name and the CRD-style name. */
export const groupQualifiedName = (plural: string, group: string | undefined): string =>
  group ? `${plural}.${group}` : plural;

/** The Namespace target is special: its federated type is namespaced, and placement of every other type is intersected with it. */
export const isNamespaceTarget = (t: { group?: string; plural?: string; pluralName?: string }): boolean =>
  !t.group && (t.plural ?? t.pluralName) === 'namespaces';

/** Accepts both shapes (discovery-style `plural` or FTC-style `pluralName`). */
export function toTargetType(t: TargetType | APIResource): TargetType {
  if ('plural' in t) return t;
  return { group: t.group ?? '', version: t.version, kind: t.kind, plural: t.pluralName, scope: t.scope };
}

/**
 * The Federated<Kind> API resource for a target. Scope follows the target's, except for
 * namespaces: a FederatedNamespace lives in the namespace it federates (KubeFed chose this so the
 * control plane can run with namespace-scoped permissions).
 */
export function federatedTypeFor(target: TargetType | APIResource): APIResource {
  const t = toTargetType(target);
  return {
    group: TYPES_GROUP,
    version: TYPES_VERSION,
    kind: `Federated${t.kind}`,
    pluralName: `federated${t.plural}`,
    scope: isNamespaceTarget(t) ? 'Namespaced' : t.scope,
  };
}

/** The FederatedTypeConfig `kubefedctl enable <plural>.<group>` would create. */
export function typeConfigFor(
  target: TargetType,
  options: { namespace?: string; statusCollection?: 'Enabled' | 'Disabled' } = {},
): FederatedTypeConfig {
  const targetType: APIResource = {
    ...(target.group ? { group: target.group } : {}),
    version: target.version,
    kind: target.kind,
    pluralName: target.plural,
    scope: target.scope,
  };
  return {
    apiVersion: `${CORE_GROUP}/${CORE_VERSION}` as FederatedTypeConfig['apiVersion'],
    kind: 'FederatedTypeConfig',
    metadata: {
      name: groupQualifiedName(target.plural, target.group),
      namespace: options.namespace ?? DEFAULT_KUBEFED_NAMESPACE,
    },
    spec: {
      targetType,
      federatedType: federatedTypeFor(target),
      propagation: 'Enabled',
      ...(options.statusCollection ? { statusCollection: options.statusCollection } : {}),
    },
  };
}

export const defaultTypeConfigs = (namespace?: string): FederatedTypeConfig[] =>
  DEFAULT_TARGET_TYPES.map((t) => typeConfigFor(t, { namespace }));

/**
 * KubeFed's defaulting of `pluralName` from a kind (FederatedTypeConfig webhook): lower-case, then
 * `es` after s/x/ch/sh/z/o, `ies` for a trailing y, else `s`. Only a fallback: discovery knows better.
 */
export function pluralName(kind: string): string {
  const lower = kind.toLowerCase();
  if (/(s|x|ch|sh|z|o)$/.test(lower)) return `${lower}es`;
  if (lower.endsWith('y')) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

/**
 * Fills what KubeFed's webhook defaulted: targetType.pluralName and group from the FTC name
 * (`<plural>.<group>`), federatedType.pluralName from its kind. Returns a new object.
 */
export function withTypeConfigDefaults(ftc: FederatedTypeConfig): FederatedTypeConfig {
  const name = ftc.metadata.name ?? '';
  const dot = name.indexOf('.');
  const plural = dot < 0 ? name : name.slice(0, dot);
  const group = dot < 0 ? undefined : name.slice(dot + 1);
  const targetType = { ...ftc.spec.targetType };
  if (!targetType.pluralName) targetType.pluralName = plural;
  if (!targetType.group && group) targetType.group = group;
  const federatedType = { ...ftc.spec.federatedType };
  if (!federatedType.pluralName) federatedType.pluralName = pluralName(federatedType.kind);
  return { ...ftc, spec: { ...ftc.spec, targetType, federatedType } };
}

/** `<group>/<version>` or `<version>` for the core group. */
export const targetApiVersion = (t: { group?: string; version: string }): string =>
  t.group ? `${t.group}/${t.version}` : t.version;
