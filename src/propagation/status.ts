// Roll-up of per-cluster outcomes into a federated object's status (KubeFed semantics): one entry
// per cluster in `status.clusters` (no `status` = in sync) and one `Propagation` condition, True
// when every cluster is in sync, otherwise False with a reason: the object-level failure if there
// is one, else CheckClusters. fedctl adds a message naming the failing clusters and
// observedGeneration on the condition.

import {
  ConditionType,
  conditionsEqual,
  findCondition,
  formatTime,
  PropagationMessage,
  PropagationReason,
  setCondition,
} from '../api/conditions.ts';
import { sameJson, sortKeys } from '../api/json.ts';
import type { ClusterPropagationStatus, Condition, FederatedStatus, WorkloadState } from '../api/types.ts';
import { summaryColumns, workloadTotals } from './workload.ts';

/** What happened in one cluster. `status` is a PropagationStatus code; absent or '' = in sync. */
export interface ClusterOutcome {
  name: string;
  status?: string;
  message?: string;
  /** The member object's status, when the type config enables status collection. */
  remoteStatus?: unknown;
  /** The member's version (`gen:N` / `rv:N`) after fedctl's last write: later changes are drift. */
  version?: string;
  /** The workload's state in this cluster, from the member's own status. */
  workload?: WorkloadState;
  /** Kept from the previous report; recomputed otherwise. */
  lastChange?: string;
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
  /**
   * This reconcile changed member objects: the condition's lastUpdateTime moves (KubeFed set it on
   * a transition and whenever changes were propagated).
   */
  propagated?: boolean;
}

/**
 * The new status. Keys are sorted (as the API server returns them), and when nothing changed the
 * result is deep-equal to `previous`, so even a JSON comparison sees no change. Prefer
 * statusChanged() to decide whether to write.
 */
export function computePropagationStatus(input: PropagationStatusInput): PropagationStatus {
  const previousByName = new Map((input.previous?.clusters ?? []).map((c) => [c.name, c]));
  const changedAt = formatTime(input.now);
  const clusters = [...input.clusters]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((o) => toClusterStatus(o, previousByName.get(o.name), changedAt));
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
  const old = findCondition(input.previous?.conditions, ConditionType.Propagation);
  const transition =
    old === undefined || old.status !== next.status || (old.reason ?? '') !== (next.reason ?? '');
  next.lastUpdateTime =
    transition || input.propagated || !old.lastUpdateTime ? changedAt : old.lastUpdateTime;

  const conditions = setCondition(input.previous?.conditions, next, input.now);
  const totals = workloadTotals(clusters);
  const status: PropagationStatus = {
    clusters,
    conditions,
    ...(input.generation !== undefined ? { observedGeneration: input.generation } : {}),
    totals,
    ...summaryColumns(totals),
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
  return statusChange(old, next) !== 'none';
}

/**
 * What differs between two statuses: nothing; only what member controllers report (workload state,
 * remote status, the totals derived from them), which may wait for the minimum interval between
 * status writes; or propagation (generation, outcomes, recorded versions, conditions), written at
 * once because the recorded versions ride on it.
 */
export function statusChange(
  old: FederatedStatus | undefined,
  next: FederatedStatus,
): 'none' | 'workload' | 'propagation' {
  if ((old?.observedGeneration ?? undefined) !== (next.observedGeneration ?? undefined)) return 'propagation';
  if (!conditionsEqual(old?.conditions, next.conditions)) return 'propagation';
  const a = old?.clusters ?? [];
  const b = next.clusters ?? [];
  if (a.length !== b.length) return 'propagation';
  const byName = new Map(b.map((c) => [c.name, c]));
  if (byName.size !== b.length || new Set(a.map((c) => c.name)).size !== a.length) return 'propagation';
  let workload = false;
  for (const c of a) {
    const other = byName.get(c.name);
    if (
      other === undefined ||
      (c.status ?? '') !== (other.status ?? '') ||
      (c.message ?? '') !== (other.message ?? '') ||
      (c.version ?? '') !== (other.version ?? '')
    )
      return 'propagation';
    if (!sameJson(c.remoteStatus, other.remoteStatus) || !sameJson(c.workload, other.workload))
      workload = true;
  }
  // Totals and the printer columns derive from the clusters, but a status written by an older
  // fedctl lacks them: that counts as a (deferrable) change, so the first write adds them.
  if (
    workload ||
    !sameJson(old?.totals, next.totals) ||
    (old?.ready ?? '') !== (next.ready ?? '') ||
    (old?.readyClusters ?? '') !== (next.readyClusters ?? '')
  )
    return 'workload';
  return 'none';
}

/** What a cluster's entry says, apart from bookkeeping (version, lastChange). */
const sameReport = (a: ClusterPropagationStatus, b: ClusterPropagationStatus) =>
  (a.status ?? '') === (b.status ?? '') &&
  (a.message ?? '') === (b.message ?? '') &&
  sameJson(a.workload, b.workload);

function toClusterStatus(
  o: ClusterOutcome,
  previous: ClusterPropagationStatus | undefined,
  now: string,
): ClusterPropagationStatus {
  const entry: ClusterPropagationStatus = {
    name: o.name,
    ...(o.status ? { status: o.status } : {}),
    ...(o.status && o.message ? { message: o.message } : {}),
    ...(o.remoteStatus !== undefined ? { remoteStatus: o.remoteStatus } : {}),
    ...(o.version ? { version: o.version } : {}),
    ...(o.workload !== undefined ? { workload: o.workload } : {}),
  };
  entry.lastChange =
    previous !== undefined && previous.lastChange !== undefined && sameReport(previous, entry)
      ? previous.lastChange
      : now;
  return entry;
}

/** A Kubernetes Event to record on the federated object. */
export interface StatusEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** Codes that are a step of normal work, not a failure worth an event. */
const NOT_A_FAILURE = new Set(['WaitingForRemoval', 'CachedRetrievalFailed']);

/**
 * Per-cluster failures and recoveries between the status last written and the one being written:
 * a cluster entering a failure code (reason: the code, e.g. UpdateFailed) or leaving one
 * (ClusterRecovered), and a workload that fails in a cluster (reason WorkloadFailed, e.g.
 * ProgressDeadlineExceeded) or whose failure condition clears (WorkloadRecovered). Computed from
 * written statuses only, so a restart with nothing changed records nothing, and one transition
 * is one event.
 */
export function clusterEvents(old: FederatedStatus | undefined, next: FederatedStatus): StatusEvent[] {
  const before = new Map((old?.clusters ?? []).map((c) => [c.name, c]));
  const events: StatusEvent[] = [];
  for (const c of next.clusters ?? []) {
    const prev = before.get(c.name);
    const was = prev?.status ?? '';
    const is = c.status ?? '';
    if (is !== was && is !== '' && !NOT_A_FAILURE.has(is)) {
      events.push({
        type: 'Warning',
        reason: is,
        message: `cluster ${c.name}: ${is}${c.message ? `: ${c.message}` : ''}`,
      });
    } else if (is === '' && was !== '' && !NOT_A_FAILURE.has(was)) {
      events.push({
        type: 'Normal',
        reason: 'ClusterRecovered',
        message: `cluster ${c.name}: in sync again (was ${was})`,
      });
    }
    const failedBefore = prev?.workload?.reason;
    const failedNow = c.workload?.reason;
    if (failedNow !== undefined && failedNow !== failedBefore) {
      events.push({
        type: 'Warning',
        reason: 'WorkloadFailed',
        message: `cluster ${c.name}: ${failedNow}${c.workload?.message ? `: ${c.workload.message}` : ''}`,
      });
    } else if (failedBefore !== undefined && failedNow === undefined && c.workload !== undefined) {
      // The failure condition is gone (a fix started a new rollout, or the member recovered by
      // itself): that is the recovery, even if the new rollout is still under way.
      events.push({
        type: 'Normal',
        reason: 'WorkloadRecovered',
        message: `cluster ${c.name}: recovered from ${failedBefore}${c.workload.healthy ? '' : ' (rolling out)'}`,
      });
    }
  }
  return events;
}
