// Condition types, reasons, per-cluster status codes and message texts, in one place so that code,
// tests and docs agree. Values are KubeFed v0.10's strings (users' scripts and dashboards match on
// them); fedctl additions are marked as such.

import type { Condition } from './types.ts';

export const ConditionType = Object.freeze({
  /** On every federated object: were the member objects brought to the desired state? */
  Propagation: 'Propagation',
  /** On KubeFedCluster: `/healthz` answered `ok`. */
  Ready: 'Ready',
  /** On KubeFedCluster: the API server could not be reached at all. */
  Offline: 'Offline',
  /** On KubeFedCluster: fedctl could not build a client from the spec and its Secret. */
  ConfigMalformed: 'ConfigMalformed',
  /** fedctl addition, on ReplicaSchedulingPreference: was the plan written to the target? */
  Scheduled: 'Scheduled',
  /** fedctl addition, on ServiceDNSRecord and IngressDNSRecord: is the DNSEndpoint written? */
  RecordsPublished: 'RecordsPublished',
  /** fedctl addition, on ServiceDNSRecord: do the members' Corefiles forward to its clusters? */
  ForwardZonesConfigured: 'ForwardZonesConfigured',
} as const);
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/**
 * Reasons of a False `Propagation` condition that concern the whole federated object. A True
 * condition carries no reason, as in KubeFed (its "AggregateSuccess" was the empty string).
 */
export const PropagationReason = Object.freeze({
  /** At least one cluster has a non-empty entry in `status.clusters`. */
  CheckClusters: 'CheckClusters',
  ClusterRetrievalFailed: 'ClusterRetrievalFailed',
  ComputePlacementFailed: 'ComputePlacementFailed',
  /** A namespaced federated object whose namespace has no FederatedNamespace: placed nowhere. */
  NamespaceNotFederated: 'NamespaceNotFederated',
  /** fedctl addition: a FederatedNamespace whose name differs from its namespace (KubeFed: event InvalidName). */
  NamespaceNameMismatch: 'NamespaceNameMismatch',
  /** fedctl addition, on a True condition: a system or control-plane namespace, never touched in members. */
  ProtectedNamespace: 'ProtectedNamespace',
  /** fedctl addition: the kubefed.io/deleteoption annotation is not valid DeleteOptions JSON. */
  InvalidDeleteOptions: 'InvalidDeleteOptions',
} as const);
export type PropagationReason = (typeof PropagationReason)[keyof typeof PropagationReason];

/** Per-cluster codes in `status.clusters[].status`; absent/empty means the member is in sync. */
export const PropagationStatus = Object.freeze({
  ClusterNotReady: 'ClusterNotReady',
  /** fedctl addition: the placement names a cluster that has no KubeFedCluster (KubeFed ignored it silently). */
  ClusterNotFound: 'ClusterNotFound',
  CachedRetrievalFailed: 'CachedRetrievalFailed',
  RetrievalFailed: 'RetrievalFailed',
  ClientRetrievalFailed: 'ClientRetrievalFailed',
  VersionRetrievalFailed: 'VersionRetrievalFailed',
  ComputeResourceFailed: 'ComputeResourceFailed',
  ApplyOverridesFailed: 'ApplyOverridesFailed',
  FieldRetentionFailed: 'FieldRetentionFailed',
  CreationFailed: 'CreationFailed',
  UpdateFailed: 'UpdateFailed',
  DeletionFailed: 'DeletionFailed',
  LabelRemovalFailed: 'LabelRemovalFailed',
  /** Create hit an existing unmanaged object and adoption is disabled. */
  AlreadyExists: 'AlreadyExists',
  /** The member object carries `kubefed.io/managed=false`: fedctl leaves it alone. */
  ManagedLabelFalse: 'ManagedLabelFalse',
  CreationTimedOut: 'CreationTimedOut',
  UpdateTimedOut: 'UpdateTimedOut',
  DeletionTimedOut: 'DeletionTimedOut',
  LabelRemovalTimedOut: 'LabelRemovalTimedOut',
  /** A delete was sent; the object still exists (finalizers in the member). */
  WaitingForRemoval: 'WaitingForRemoval',
  /**
   * fedctl addition: the member object carries the managed label but fedctl cannot prove it made or
   * adopted it (no owner annotation for this federated object), so it is unlabelled, never deleted.
   */
  NotOwned: 'NotOwned',
} as const);
export type PropagationStatusCode = (typeof PropagationStatus)[keyof typeof PropagationStatus];

/**
 * Codes worth a retry with backoff: the member call itself failed or hung. The others only change
 * when the spec, the member object or the cluster's health changes, and those changes enqueue.
 * (Same partition as KubeFed's IsRecoverableError.)
 */
export const RECOVERABLE_PROPAGATION_STATUSES: ReadonlySet<string> = new Set<PropagationStatusCode>([
  PropagationStatus.CreationFailed,
  PropagationStatus.UpdateFailed,
  PropagationStatus.DeletionFailed,
  PropagationStatus.LabelRemovalFailed,
  PropagationStatus.RetrievalFailed,
  PropagationStatus.ClientRetrievalFailed,
  PropagationStatus.CreationTimedOut,
  PropagationStatus.UpdateTimedOut,
  PropagationStatus.DeletionTimedOut,
  PropagationStatus.LabelRemovalTimedOut,
]);

export const isRecoverablePropagationStatus = (code: string | undefined): boolean =>
  code !== undefined && RECOVERABLE_PROPAGATION_STATUSES.has(code);

/** Reasons on KubeFedCluster conditions (KubeFed's strings). */
export const ClusterReason = Object.freeze({
  ClusterReady: 'ClusterReady',
  ClusterNotReady: 'ClusterNotReady',
  ClusterNotReachable: 'ClusterNotReachable',
  ClusterReachable: 'ClusterReachable',
  ClusterConfigMalformed: 'ClusterConfigMalformed',
} as const);
export type ClusterReason = (typeof ClusterReason)[keyof typeof ClusterReason];

/** fedctl addition: why a KubeFedCluster's ConfigMalformed condition is True (no client can be built). */
export const ClusterConfigReason = Object.freeze({
  MissingAPIEndpoint: 'MissingAPIEndpoint',
  InvalidAPIEndpoint: 'InvalidAPIEndpoint',
  MissingSecretRef: 'MissingSecretRef',
  SecretNotFound: 'SecretNotFound',
  TokenNotFound: 'TokenNotFound',
  InvalidCABundle: 'InvalidCABundle',
} as const);
export type ClusterConfigReason = (typeof ClusterConfigReason)[keyof typeof ClusterConfigReason];

/** Kubernetes' condition on a CustomResourceDefinition: its kinds are served. */
export const CRD_ESTABLISHED = 'Established';

/** fedctl addition: reasons on a ReplicaSchedulingPreference's `Scheduled` condition. */
export const SchedulingReason = Object.freeze({
  Scheduled: 'Scheduled',
  TargetNotFound: 'TargetNotFound',
  TargetKindUnsupported: 'TargetKindUnsupported',
  NoReadyClusters: 'NoReadyClusters',
  ComputePlacementFailed: 'ComputePlacementFailed',
} as const);
export type SchedulingReason = (typeof SchedulingReason)[keyof typeof SchedulingReason];

/** fedctl addition: reasons of the DNS record conditions (RecordsPublished, ForwardZonesConfigured). */
export const DnsReason = Object.freeze({
  /** RecordsPublished True: the DNSEndpoint holds the records. */
  RecordsWritten: 'RecordsWritten',
  /** The record's domainRef names no Domain in the control-plane namespace. */
  DomainNotFound: 'DomainNotFound',
  /** A Ready member could not be read (its cache has not synced). */
  ClusterRetrievalFailed: 'ClusterRetrievalFailed',
  /** A load balancer host name did not resolve. */
  UnresolvedHostname: 'UnresolvedHostname',
  /** The records could not be computed or written. */
  RecordsFailed: 'RecordsFailed',
  /** ForwardZonesConfigured True: every Corefile section is written. */
  CorefilesUpdated: 'CorefilesUpdated',
  /** A member's DNS domain or addresses are not valid: it is left out of forwarding. */
  InvalidClusterDNS: 'InvalidClusterDNS',
  /** Shared domain: two other clusters host the namespace, so there is no single upstream. */
  AmbiguousNamespace: 'AmbiguousNamespace',
  /** Shared domain: the local cluster has the namespace itself; a forward block would hide it. */
  ShadowsLocalNamespace: 'ShadowsLocalNamespace',
  /** A forward zone equals a federation zone served from DNSEndpoints. */
  FederationZoneClash: 'FederationZoneClash',
  /** The cluster has no DNS address other clusters could forward to. */
  NoDnsAddress: 'NoDnsAddress',
  // A member's Corefile section was refused (nothing written there):
  CoreDNSConfigNotFound: 'CoreDNSConfigNotFound',
  CorefileUnparseable: 'CorefileUnparseable',
  InvalidSection: 'InvalidSection',
  SectionConflict: 'SectionConflict',
  CheckFailed: 'CheckFailed',
  CheckUnavailable: 'CheckUnavailable',
  /** The API refused or failed the ConfigMap write. */
  WriteFailed: 'WriteFailed',
} as const);
export type DnsReason = (typeof DnsReason)[keyof typeof DnsReason];

/** A problem a condition reports: a reason from this module and a message for people. */
export interface Problem<R extends string = string> {
  reason: R;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// Message texts

export const ClusterMessage = Object.freeze({
  healthzOk: '/healthz responded with ok',
  healthzNotOk: (body: string) => `/healthz responded without ok: ${truncate(body, 200)}`,
  reachable: 'cluster is reachable',
  notReachable: (detail: string) => `cluster is not reachable: ${detail}`,
  configMalformed: (detail: string) => `cluster's configuration may be malformed: ${detail}`,
});

export const PropagationMessage = Object.freeze({
  /** True condition: every selected cluster is in sync. */
  propagated: (clusters: readonly string[]) =>
    clusters.length === 0 ? 'no cluster selected' : `in sync in ${listNames(clusters)}`,
  /** False condition with CheckClusters: which clusters failed and how. */
  checkClusters: (failures: readonly { name: string; status: string }[]) =>
    `not in sync in ${failures.length} cluster${failures.length === 1 ? '' : 's'}: ${failures
      .slice(0, MAX_LISTED)
      .map((f) => `${f.name} (${f.status})`)
      .join(', ')}${failures.length > MAX_LISTED ? `, and ${failures.length - MAX_LISTED} more` : ''}`,
  namespaceNotFederated: (namespace: string) =>
    `namespace ${namespace} has no FederatedNamespace named ${namespace}: nothing is created, and member objects are left as they are`,
  namespaceNameMismatch: (name: string, namespace: string) =>
    `a FederatedNamespace must be named like its namespace: ${name} in namespace ${namespace} is ignored (rename it ${namespace})`,
  protectedNamespace: (namespace: string) =>
    `${namespace} is a system or control-plane namespace: fedctl never creates, changes or deletes it in members; its placement still selects the clusters of the objects inside it`,
  invalidDeleteOptions: (detail: string) =>
    `annotation kubefed.io/deleteoption is not valid DeleteOptions JSON (${detail}); member objects are kept until it is fixed or removed`,
  notOwned:
    'the member object carries kubefed.io/managed=true but fedctl did not create or adopt it for this federated object: its label is removed, the object is kept',
  waitingForCluster: (cluster: string) =>
    `cluster ${cluster} is not ready: its copy is removed when it returns (or when it is unjoined)`,
});

const MAX_LISTED = 10;

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, MAX_LISTED).join(', ');
  return names.length > MAX_LISTED ? `${shown}, and ${names.length - MAX_LISTED} more` : shown;
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

// ---------------------------------------------------------------------------------------------
// Pure helpers

/** RFC 3339 with second precision, the form metav1.Time takes on the wire. */
export function formatTime(now: Date | string): string {
  const d = typeof now === 'string' ? new Date(now) : now;
  if (Number.isNaN(d.getTime())) throw new Error(`invalid time: ${String(now)}`);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function findCondition<C extends Condition>(
  conditions: readonly C[] | undefined,
  type: string,
): C | undefined {
  return conditions?.find((c) => c.type === type);
}

export const isConditionTrue = (conditions: readonly Condition[] | undefined, type: string): boolean =>
  findCondition(conditions, type)?.status === 'True';

/** The input to setCondition: lastTransitionTime is decided by setCondition. */
export type ConditionUpdate<C extends Condition = Condition> = Omit<C, 'lastTransitionTime'> & {
  lastTransitionTime?: string;
};

/**
 * Puts `next` in place of the condition of the same type (or appends it). lastTransitionTime moves
 * to `now` only when the condition is new or its status flips; otherwise the old one is kept.
 * When the result equals the input, the input array itself is returned, so `result === conditions`
 * tells a caller that no status write is needed. Never mutates its inputs.
 */
export function setCondition<C extends Condition>(
  conditions: readonly C[] | undefined,
  next: ConditionUpdate<C>,
  now: Date | string,
): C[] {
  const list = conditions ?? [];
  const index = list.findIndex((c) => c.type === next.type);
  const previous = index >= 0 ? list[index] : undefined;
  const lastTransitionTime =
    previous !== undefined && previous.status === next.status && previous.lastTransitionTime !== undefined
      ? previous.lastTransitionTime
      : (next.lastTransitionTime ?? formatTime(now));
  const merged = dropUndefined({ ...next, lastTransitionTime }) as unknown as C;
  if (previous !== undefined && sameCondition(previous, merged, true)) {
    return list as C[];
  }
  if (index < 0) return [...list, merged];
  const out = [...list];
  out[index] = merged;
  return out;
}

/** Removes the condition of the given type; returns the input array when there was none. */
export function removeCondition<C extends Condition>(
  conditions: readonly C[] | undefined,
  type: string,
): C[] {
  const list = conditions ?? [];
  return list.some((c) => c.type === type) ? list.filter((c) => c.type !== type) : (list as C[]);
}

/**
 * Whether two condition lists say the same thing: same types (in any order) with equal status,
 * reason, message and observedGeneration. Timestamps are ignored: setCondition keeps
 * lastTransitionTime unless status flips, and a status flip already makes the lists differ.
 */
export function conditionsEqual(
  a: readonly Condition[] | undefined,
  b: readonly Condition[] | undefined,
): boolean {
  const left = a ?? [];
  const right = b ?? [];
  if (left.length !== right.length) return false;
  return left.every((c) => {
    const other = findCondition(right, c.type);
    return other !== undefined && sameCondition(c, other, false);
  });
}

function sameCondition(a: Condition, b: Condition, compareTimes: boolean): boolean {
  if (
    a.type !== b.type ||
    a.status !== b.status ||
    (a.reason ?? '') !== (b.reason ?? '') ||
    (a.message ?? '') !== (b.message ?? '') ||
    a.observedGeneration !== b.observedGeneration
  ) {
    return false;
  }
  if (!compareTimes) return true;
  // Other fields (lastProbeTime, lastUpdateTime from KubeFed-written status) count as content:
  // a condition that still has them differs from one that does not, so the first write drops them.
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if (KNOWN_FIELDS.has(key) && key !== 'lastTransitionTime') continue;
    if ((a as unknown as Record<string, unknown>)[key] !== (b as unknown as Record<string, unknown>)[key]) {
      return false;
    }
  }
  return true;
}

const KNOWN_FIELDS = new Set([
  'type',
  'status',
  'reason',
  'message',
  'observedGeneration',
  'lastTransitionTime',
]);

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
