// Roll-up of per-cluster outcomes into a federated object's status (KubeFed semantics): one entry
// per cluster in `status.clusters` (no `status` = in sync) and one `Propagation` condition, True
// when every cluster is in sync, otherwise False with a reason: the object-level failure if there
// is one, else CheckClusters. fedctl adds a message naming the failing clusters and
// observedGeneration on the condition.

import {
  ConditionType,
  conditionsEqual,
  PropagationMessage,
  PropagationReason,
  setCondition,
} from '../api/conditions.ts';
import { sortKeys } from '../api/json.ts';
import type { ClusterPropagationStatus, Condition, FederatedStatus } from '../api/types.ts';

/** What happened in one cluster. `status` is a PropagationStatus code; absent or '' = in sync. */
export interface ClusterOutcome {
  name: string;
  status?: string;
  message?: string;
  /** The member object's status, when the type config enables status collection. */
  remoteStatus?: unknown;
  /** The member's version (`gen:N` / `rv:N`) after fedctl's last write: later changes are drift. */
  version?: string;
}

/** The status fedctl writes on a federated object. */
export type PropagationStatus = FederatedStatus;

export interface PropagationStatusInput {
  /** metadata.generation of the federated object. */
  generation?: number;
  now: Date | string;
  /** The current status, so that unchanged conditions keep their lastTransitionTime. */
  previous?: FederatedStatus;
  /** An object-level failure (e.g. NamespaceNotFederated); overrides the per-cluster verdict. */
  failure?: { reason: string; message?: string };
  /** An object-level True verdict with a reason (e.g. ProtectedNamespace: nothing to propagate). */
  success?: { reason: string; message?: string };
  clusters: readonly ClusterOutcome[];
}

/**
 * The new status. Keys are sorted (as the API server returns them), and when nothing changed the
 * result is deep-equal to `previous`, so even a JSON comparison sees no change. Prefer
 * statusChanged() to decide whether to write.
 */
export function computePropagationStatus(input: PropagationStatusInput): PropagationStatus {
  const clusters = [...input.clusters]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(toClusterStatus);
  const failing = clusters.filter((c) => c.status !== undefined) as { name: string; status: string }[];

  let next: Omit<Condition, 'lastTransitionTime'>;
  if (input.failure) {
    next = {
      type: ConditionType.Propagation,
      status: 'False',
      reason: input.failure.reason,
      ...(input.failure.message ? { message: input.failure.message } : {}),
    };
  } else if (input.success) {
    next = {
      type: ConditionType.Propagation,
      status: 'True',
      reason: input.success.reason,
      ...(input.success.message ? { message: input.success.message } : {}),
    };
  } else if (failing.length > 0) {
    next = {
      type: ConditionType.Propagation,
      status: 'False',
      reason: PropagationReason.CheckClusters,
      message: PropagationMessage.checkClusters(failing),
    };
  } else {
    next = {
      type: ConditionType.Propagation,
      status: 'True',
      message: PropagationMessage.propagated(clusters.map((c) => c.name)),
    };
  }
  if (input.generation !== undefined) next.observedGeneration = input.generation;

  const conditions = setCondition(input.previous?.conditions, next, input.now);
  const status: PropagationStatus = {
    clusters,
    conditions,
    ...(input.generation !== undefined ? { observedGeneration: input.generation } : {}),
  };
  return sortKeys(status) as PropagationStatus;
}

/** KubeFed's name for the same roll-up. */
export const rollUpStatus = computePropagationStatus;

/**
 * Whether `next` says something `old` does not: generation, per-cluster codes and messages,
 * remote status, or conditions (timestamps ignored). Cluster order does not matter.
 */
export function statusChanged(old: FederatedStatus | undefined, next: FederatedStatus): boolean {
  if ((old?.observedGeneration ?? undefined) !== (next.observedGeneration ?? undefined)) return true;
  if (!conditionsEqual(old?.conditions, next.conditions)) return true;
  return !clustersEqual(old?.clusters ?? [], next.clusters ?? []);
}

function clustersEqual(
  a: readonly ClusterPropagationStatus[],
  b: readonly ClusterPropagationStatus[],
): boolean {
  if (a.length !== b.length) return false;
  const byName = new Map(b.map((c) => [c.name, c]));
  if (byName.size !== b.length || new Set(a.map((c) => c.name)).size !== a.length) return false;
  return a.every((c) => {
    const other = byName.get(c.name);
    return (
      other !== undefined &&
      (c.status ?? '') === (other.status ?? '') &&
      (c.message ?? '') === (other.message ?? '') &&
      (c.version ?? '') === (other.version ?? '') &&
      JSON.stringify(sortKeys(c.remoteStatus)) === JSON.stringify(sortKeys(other.remoteStatus))
    );
  });
}

function toClusterStatus(o: ClusterOutcome): ClusterPropagationStatus {
  return {
    name: o.name,
    ...(o.status ? { status: o.status } : {}),
    ...(o.status && o.message ? { message: o.message } : {}),
    ...(o.remoteStatus !== undefined ? { remoteStatus: o.remoteStatus } : {}),
    ...(o.version ? { version: o.version } : {}),
  };
}
