// Per-cluster workload state, read from the member's own copy (the sync reconciler's cache, or the
// response of fedctl's own write in the same reconcile: never an extra request), and its roll-up
// into totals. Pure: tables of member statuses in, compact state out (workload.test.ts).
//
// What "healthy" means follows `kubectl rollout status` for the kinds it knows, so a user who
// trusted that command before federation sees the same verdict per cluster.

import type { ClusterPropagationStatus, WorkloadState, WorkloadTotals } from '../api/types.ts';

interface MemberLike {
  apiVersion?: string;
  kind?: string;
  metadata?: { generation?: number };
  spec?: unknown;
  status?: unknown;
}

interface Cond {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

type Rec = Record<string, unknown>;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const n0 = (v: unknown): number => num(v) ?? 0;
const rec = (v: unknown): Rec => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});
const conditionsOf = (status: Rec): Cond[] =>
  Array.isArray(status.conditions)
    ? (status.conditions as Cond[]).filter((c) => c && typeof c === 'object')
    : [];
const find = (conds: Cond[], type: string) => conds.find((c) => c.type === type);

/** Messages from member conditions can be long (a whole event text): status must stay small. */
const MAX_MESSAGE = 200;
const clip = (s: string | undefined) =>
  s === undefined || s === '' ? undefined : s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE - 1)}…` : s;

/** The group of an apiVersion (`apps/v1` → `apps`, `v1` → ``). */
const groupOf = (apiVersion: string | undefined) => {
  const v = apiVersion ?? '';
  const i = v.indexOf('/');
  return i < 0 ? '' : v.slice(0, i);
};

/**
 * The member controller has acted on the latest spec. A member without a generation (kinds that do
 * not bump one) counts as observed; one with a generation but no status.observedGeneration does not.
 */
function observedLatest(obj: MemberLike, status: Rec): boolean {
  const generation = num(obj.metadata?.generation);
  if (generation === undefined) return true;
  const observed = num(status.observedGeneration);
  return observed !== undefined && observed >= generation;
}

/** Drop absent optional fields (so equal states are equal as JSON) and `observed` when true. */
function compact(s: WorkloadState): WorkloadState {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (v === undefined) continue;
    if (k === 'observed' && v === true) continue;
    out[k] = v;
  }
  return out as unknown as WorkloadState;
}

function failure(s: WorkloadState, c: Cond | undefined): WorkloadState {
  if (!c) return s;
  return { ...s, healthy: false, reason: c.reason || c.type, message: clip(c.message) };
}

type Reader = (obj: MemberLike, spec: Rec, status: Rec) => WorkloadState;

function deployment(obj: MemberLike, spec: Rec, status: Rec): WorkloadState {
  const desired = num(spec.replicas) ?? 1;
  const observed = observedLatest(obj, status);
  const s: WorkloadState = {
    desired,
    replicas: n0(status.replicas),
    updated: n0(status.updatedReplicas),
    ready: n0(status.readyReplicas),
    available: n0(status.availableReplicas),
    observed,
    healthy: false,
  };
  const conds = conditionsOf(status);
  const progressing = find(conds, 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return failure(s, progressing);
  const replicaFailure = find(conds, 'ReplicaFailure');
  if (replicaFailure?.status === 'True') return failure(s, replicaFailure);
  // kubectl rollout status: all updated, no old replicas left, all updated ones available.
  s.healthy =
    observed &&
    s.updated! >= desired &&
    s.replicas! <= s.updated! &&
    s.available! >= s.updated! &&
    s.ready! >= desired;
  return s;
}

function replicaSet(obj: MemberLike, spec: Rec, status: Rec): WorkloadState {
  const desired = num(spec.replicas) ?? 1;
  const observed = observedLatest(obj, status);
  const s: WorkloadState = {
    desired,
    replicas: n0(status.replicas),
    ready: n0(status.readyReplicas),
    available: n0(status.availableReplicas),
    observed,
    healthy: false,
  };
  const replicaFailure = find(conditionsOf(status), 'ReplicaFailure');
  if (replicaFailure?.status === 'True') return failure(s, replicaFailure);
  s.healthy = observed && s.ready! >= desired && s.available! >= desired;
  return s;
}

function statefulSet(obj: MemberLike, spec: Rec, status: Rec): WorkloadState {
  const desired = num(spec.replicas) ?? 1;
  const observed = observedLatest(obj, status);
  const s: WorkloadState = {
    desired,
    replicas: n0(status.replicas),
    updated: n0(status.updatedReplicas),
    ready: n0(status.readyReplicas),
    available: num(status.availableReplicas),
    observed,
    healthy: false,
  };
  const strategy = rec(spec.updateStrategy);
  let rolledOut = true;
  // OnDelete: pods are replaced by hand; kubectl does not wait for them either.
  if ((strategy.type ?? 'RollingUpdate') === 'RollingUpdate') {
    const partition = n0(rec(strategy.rollingUpdate).partition);
    rolledOut =
      partition > 0
        ? s.updated! >= desired - partition
        : s.updated! >= desired && status.currentRevision === status.updateRevision;
  }
  s.healthy = observed && s.ready! >= desired && rolledOut;
  return s;
}

function daemonSet(obj: MemberLike, _spec: Rec, status: Rec): WorkloadState {
  const observed = observedLatest(obj, status);
  const s: WorkloadState = {
    desired: n0(status.desiredNumberScheduled),
    replicas: n0(status.currentNumberScheduled),
    updated: n0(status.updatedNumberScheduled),
    ready: n0(status.numberReady),
    available: n0(status.numberAvailable),
    observed,
    healthy: false,
  };
  s.healthy = observed && s.updated! >= s.desired! && s.available! >= s.desired!;
  return s;
}

/** Job: `ready` counts succeeded pods (kubectl's COMPLETIONS), `active` the running ones. */
function job(_obj: MemberLike, spec: Rec, status: Rec): WorkloadState {
  // A Job without completions is done after one success (or, with parallelism, when any succeeds).
  const desired = num(spec.completions) ?? 1;
  const s: WorkloadState = {
    desired,
    ready: n0(status.succeeded),
    active: n0(status.active),
    ...(n0(status.failed) > 0 ? { failed: n0(status.failed) } : {}),
    healthy: false,
  };
  const conds = conditionsOf(status);
  const failed = find(conds, 'Failed');
  if (failed?.status === 'True') return failure(s, failed);
  s.healthy = find(conds, 'Complete')?.status === 'True';
  return s;
}

/** Conditions that say an object is up, in the order they are looked for. */
const UP_CONDITIONS = ['Ready', 'Available', 'Complete', 'Succeeded', 'Established'];
/** Conditions that say it failed when True. */
const DOWN_CONDITIONS = ['Failed', 'Degraded', 'Stalled'];

/**
 * Any other kind: its status conditions and observedGeneration, when it has either. A kind without
 * them (ConfigMap, Secret, Service) has no workload state: it is up when it is propagated.
 */
function generic(obj: MemberLike, status: Rec): WorkloadState | undefined {
  const conds = conditionsOf(status);
  const hasGeneration = num(status.observedGeneration) !== undefined;
  if (conds.length === 0 && !hasGeneration) return undefined;
  // Many custom controllers never write observedGeneration: then only the conditions speak.
  const observed = hasGeneration ? observedLatest(obj, status) : true;
  const s: WorkloadState = { observed, healthy: observed };
  const down = DOWN_CONDITIONS.map((t) => find(conds, t)).find((c) => c?.status === 'True');
  if (down) return failure(s, down);
  const up = UP_CONDITIONS.map((t) => find(conds, t)).find((c) => c !== undefined);
  if (up && up.status !== 'True') return failure(s, up);
  return s;
}

const READERS: Record<string, Reader> = {
  'apps/Deployment': deployment,
  'apps/ReplicaSet': replicaSet,
  'apps/StatefulSet': statefulSet,
  'apps/DaemonSet': daemonSet,
  'batch/Job': job,
};

/** The workload state of one member copy, or undefined when its kind reports none. */
export function workloadState(member: MemberLike | undefined): WorkloadState | undefined {
  if (!member) return undefined;
  const status = rec(member.status);
  const reader = READERS[`${groupOf(member.apiVersion)}/${member.kind ?? ''}`];
  const state = reader ? reader(member, rec(member.spec), status) : generic(member, status);
  return state ? compact(state) : undefined;
}

/** A cluster counts as ready when it is in sync and its workload (if it has one) is healthy. */
export function clusterReady(c: ClusterPropagationStatus): boolean {
  return !c.status && (c.workload === undefined || c.workload.healthy);
}

/**
 * Totals across clusters. A cluster judged not ready by the health prober keeps its last report in
 * its own entry, but its replicas are not counted as ready: nobody can vouch for them now.
 */
export function workloadTotals(clusters: readonly ClusterPropagationStatus[]): WorkloadTotals {
  const t: WorkloadTotals = { clusters: clusters.length, readyClusters: 0 };
  let counted = false;
  for (const c of clusters) {
    if (clusterReady(c)) t.readyClusters++;
    const w = c.workload;
    if (w?.desired === undefined) continue;
    counted = true;
    const vouched = c.status !== 'ClusterNotReady';
    t.desired = (t.desired ?? 0) + w.desired;
    t.ready = (t.ready ?? 0) + (vouched ? (w.ready ?? 0) : 0);
    if (w.available !== undefined) t.available = (t.available ?? 0) + (vouched ? w.available : 0);
    if (w.updated !== undefined) t.updated = (t.updated ?? 0) + (vouched ? w.updated : 0);
  }
  if (!counted) return { clusters: t.clusters, readyClusters: t.readyClusters };
  return t;
}

/** The printer-column strings: READY `7/9` (absent for kinds without replicas), CLUSTERS `2/3`. */
export function summaryColumns(t: WorkloadTotals): { ready?: string; readyClusters: string } {
  return {
    ...(t.desired !== undefined ? { ready: `${t.ready ?? 0}/${t.desired}` } : {}),
    readyClusters: `${t.readyClusters}/${t.clusters}`,
  };
}
