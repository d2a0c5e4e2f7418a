import type { KubernetesObject } from '@kubernetes/client-node';
import {
  PropagationStatus as Code,
  isRecoverablePropagationStatus,
  PropagationMessage,
  PropagationReason,
} from '../api/conditions.ts';
import {
  DELETE_OPTIONS_ANNOTATION,
  MANAGED_LABEL,
  ORPHAN_ANNOTATION,
  SYNC_FINALIZER,
  SYSTEM_NAMESPACES,
} from '../api/constants.ts';
import type { MemberTarget } from '../api/type-configs.ts';
import type { CachedFederatedObject, ClusterPropagationStatus, KubeObject } from '../api/types.ts';
import { errorMessage, isAlreadyExists, isNotFound } from '../kube/errors.ts';
import type { DeleteOptions } from '../kube/resources.ts';
import { memberObject } from './desired.ts';
import { upToDate, versionOf } from './equality.ts';
import { type Operation, overridesByCluster } from './overrides.ts';
import {
  type CopyFact,
  decideMember,
  type FederatedState,
  type MemberAction,
  ownerUidOf,
  type PlacementFact,
} from './ownership.ts';
import { placementForNamespaced, selectClusters } from './placement.ts';
import { FEDCTL_ANNOTATIONS } from './retention.ts';
import {
  type ClusterOutcome,
  clusterEvents,
  computePropagationStatus,
  type PropagationStatus,
  type PropagationStatusInput,
  type StatusEvent,
  statusChange,
} from './status.ts';
import { workloadState } from './workload.ts';

// The sync reconciler for one federated object: level-triggered and idempotent. It reads only from
// the caches and views it is given, asks ownership.ts what each member may get, and sends a member
// write only where the member differs from what is desired. All I/O goes through the injected ports,
// so unit tests seed the views and assert the exact list of writes.

/** A federated object as read from the host cache (treat as read-only). */
export type FederatedObject = CachedFederatedObject;

/** What the reconciler knows about one member cluster. */
export interface MemberView {
  name: string;
  labels: Record<string, string>;
  /** Healthy as judged by the health prober. */
  ready: boolean;
  /** The member's cache of managed objects of the target type is synced now. */
  synced: boolean;
  /** The cache synced at least once: its (possibly stale) contents say what the member held. */
  everSynced?: boolean;
  /** A managed object (label kubefed.io/managed=true) of the target type from the member's cache. */
  cached(name: string, namespace?: string): KubernetesObject | undefined;
}

/** Writes to member clusters. Each call either resolves or throws an API error. */
export interface MemberWriter {
  create(cluster: string, obj: KubernetesObject): Promise<KubernetesObject>;
  replace(cluster: string, obj: KubernetesObject): Promise<KubernetesObject>;
  delete(cluster: string, obj: KubernetesObject, options: DeleteOptions): Promise<void>;
  /** A live read, for objects the managed-only cache cannot see (unlabelled or labelled false). */
  get(cluster: string, name: string, namespace?: string): Promise<KubernetesObject | undefined>;
}

/** Writes to the federated object in the host. */
export interface HostWriter {
  setFinalizers(fed: FederatedObject, finalizers: string[]): Promise<void>;
  writeStatus(fed: FederatedObject, status: PropagationStatus): Promise<void>;
}

/** Where a namespace is federated: unknown until the FederatedNamespace cache has synced. */
export type NamespacePlacement =
  | { known: false }
  /** `clusters` undefined: the namespace has no (valid, live) FederatedNamespace. */
  | { known: true; clusters?: string[] };

export interface SyncContext {
  target: MemberTarget;
  members: MemberView[];
  memberWriter: MemberWriter;
  hostWriter: HostWriter;
  /** Namespaced types only: where the object's namespace is federated. */
  namespacePlacement?: (namespace: string) => NamespacePlacement;
  /**
   * Namespace targets only: the UID of the host's own Namespace of that name (undefined if it has
   * none). A member copy with that UID *is* the host's namespace, holding the federated objects.
   */
  hostNamespaceUid?: (name: string) => Promise<string | undefined>;
  /** The control-plane namespace: protected like the system namespaces. */
  controlPlaneNamespace?: string;
  /** KubeFedConfig syncController.adoptResources. */
  adoptResources: boolean;
  /** Per-member-operation time limit; a hang is reported as <Op>TimedOut. */
  operationTimeoutMs: number;
  /**
   * A member request still unanswered after this long is reported to `onSlow` (the health prober
   * then checks the member at once); default 1000 ms.
   */
  patienceMs?: number;
  onSlow?: (cluster: string) => void;
  /** Aborts when the cluster is judged not ready: requests to it stop holding this reconcile. */
  lostSignal?: (cluster: string) => AbortSignal | undefined;
  /** Every deletion and label removal in a member is logged: they are the writes users audit. */
  log?: { info(message: string, fields: Record<string, unknown>): void };
  /** The member's version fedctl recorded after its last write there (fresher than the status). */
  recordedVersion?: (cluster: string) => string | undefined;
  now?: () => Date;
  /** FederatedTypeConfig statusCollection Enabled: copy each member's `.status` into remoteStatus. */
  statusCollection?: boolean;
  /**
   * A status change that only member controllers caused (workload state, remote status) waits
   * until this long after the previous status write of the object (the reconcile asks to be called
   * again then). Propagation changes are written at once.
   */
  statusMinIntervalMs?: number;
  /** When (epoch ms) the status of this federated object was last written by this controller. */
  lastStatusWriteAt?: () => number | undefined;
  /** Record Events on the federated object (called after its status was written). */
  recordEvents?: (fed: FederatedObject, events: StatusEvent[]) => void;
}

export interface SyncResult {
  /** Ask to be called again (a cluster failed, a cache was not ready, removal is pending). */
  retry: boolean;
  requeueAfterMs?: number;
  writes: number;
  /** Member versions after this reconcile's writes, by cluster (null: nothing recorded any more). */
  versions: Map<string, string | null>;
}

interface Run {
  name: string;
  namespace: string | undefined;
  fed: FederatedObject | undefined;
  ctx: SyncContext;
  writes: number;
  versions: Map<string, string | null>;
  /** A member object was created, updated, deleted or unlabelled. */
  propagated: boolean;
  /** A deferred status write: call again after this long. */
  deferMs?: number;
}

/**
 * Reconcile one federated object. `fed` is undefined when it is not in the (synced) host cache: then
 * managed member copies left behind are strays, and only lose their managed label.
 */
export async function syncFederatedObject(
  name: string,
  namespace: string | undefined,
  fed: FederatedObject | undefined,
  ctx: SyncContext,
): Promise<SyncResult> {
  const run: Run = {
    name,
    namespace: ctx.target.namespaced ? namespace : undefined,
    fed,
    ctx,
    writes: 0,
    versions: new Map(),
    propagated: false,
  };
  if (!fed) return strays(run);

  const generation = fed.metadata?.generation;
  const now = ctx.now?.() ?? new Date();
  const deleting = fed.metadata?.deletionTimestamp !== undefined && fed.metadata?.deletionTimestamp !== null;
  const uid = fed.metadata?.uid ?? '';
  /** Write the object's status from this reconcile's verdict, if it says something new. */
  const report = (verdict: Omit<PropagationStatusInput, 'generation' | 'now' | 'previous'>) =>
    writeStatusIfChanged(
      run,
      computePropagationStatus({ generation, now, previous: fed.status, ...verdict }),
    );

  // A FederatedNamespace is valid only in the namespace it names (KubeFed); system and control-plane
  // namespaces are never touched. Neither needs a finalizer: nothing is ever written to members.
  const ignored = ignoredNamespace(fed, ctx);
  if (ignored) {
    if (deleting) return releaseFinalizer(run);
    await report({
      ...(ignored.reason === PropagationReason.ProtectedNamespace
        ? { success: ignored }
        : { failure: ignored }),
      clusters: [],
    });
    return result(run, false);
  }

  if (deleting && !fed.metadata?.finalizers?.includes(SYNC_FINALIZER)) return result(run, false);
  const state: FederatedState = deleting
    ? { phase: 'deleting', uid, orphan: fed.metadata?.annotations?.[ORPHAN_ANNOTATION] === 'true' }
    : { phase: 'live', uid };

  // The finalizer is sent alongside the member writes rather than before them: it saves a round trip
  // on every new object. If the federated object vanishes before it lands, its member copies are
  // strays and keep existing (unlabelled), so nothing is lost.
  const finalizerAdded =
    deleting || fed.metadata?.finalizers?.includes(SYNC_FINALIZER)
      ? Promise.resolve()
      : ctx.hostWriter.setFinalizers(fed, [...(fed.metadata?.finalizers ?? []), SYNC_FINALIZER]).then(() => {
          run.writes++;
        });
  // Surfaced below; a rejection must not go unhandled while member writes run.
  finalizerAdded.catch(() => undefined);

  // Object-level decisions. A bad spec is terminal: a False condition with a reason, no retry loop
  // (a spec change re-triggers reconcile). While deleting, an unknown placement keeps the finalizer.
  const placement = computePlacement(fed, run);
  if (!deleting && placement.failure) {
    await finalizerAdded;
    await report({ failure: placement.failure, clusters: [] });
    return result(run, false);
  }
  const opsByCluster = overridesPerCluster(fed.spec?.overrides);
  const malformed = opsByCluster.get('*');
  if (!deleting && malformed instanceof Error) {
    await finalizerAdded;
    await report({
      failure: { reason: PropagationReason.ComputePlacementFailed, message: malformed.message },
      clusters: [],
    });
    return result(run, false);
  }
  const deleteOptions = deleting ? parseDeleteOptions(fed) : {};
  const hostUid = await hostNamespaceUid(run, deleting, placement);

  const outcomes = await forEachCluster(ctx.members, async (m) => {
    const fact = placement.of(m.name);
    const copy = copyFact(m, run, hostUid);
    const action = decideMember({
      fed: state,
      placement: fact,
      clusterReady: m.ready && m.synced,
      notReadyCode: m.ready ? Code.CachedRetrievalFailed : Code.ClusterNotReady,
      copy,
    });
    return carryOut(action, m, opsByCluster, deleteOptions, run);
  });
  const reported = outcomes.filter((o): o is ClusterOutcome & Extra => o !== undefined);

  if (deleting) {
    const pending = reported.filter((o) => o.blocksFinalizer);
    if (pending.length === 0) return releaseFinalizer(run);
    await report({ clusters: reported, propagated: run.propagated });
    // A cluster that is down gets this object again when it returns (its Ready verdict re-queues
    // everything); failed calls back off; a removal in progress is looked at again shortly.
    const failed = pending.some((o) => isRetryable(o.status));
    const polling = pending.some((o) => o.status !== Code.ClusterNotReady);
    return result(run, failed, failed || !polling ? undefined : 1000);
  }

  await finalizerAdded;
  if (placement.notFederated) {
    await report({
      failure: {
        reason: PropagationReason.NamespaceNotFederated,
        message: PropagationMessage.namespaceNotFederated(run.namespace ?? ''),
      },
      clusters: [],
    });
    return result(run, false);
  }
  reported.push(...unknownClusters(fed, ctx.members));
  await report({ clusters: reported, propagated: run.propagated });
  const unknown =
    placement.unknown || reported.some((o) => o.unknown || o.status === Code.CachedRetrievalFailed);
  return result(
    run,
    reported.some((o) => isRetryable(o.status)),
    unknown ? 1000 : undefined,
  );
}

/** Extra per-cluster facts the reconciler needs beyond what status shows. */
interface Extra {
  /** A deleting federated object must keep its finalizer for this cluster. */
  blocksFinalizer?: boolean;
  /** The cluster's state is not known yet (its last report is kept): look again soon. */
  unknown?: boolean;
}

function result(run: Run, retry: boolean, requeue?: number): SyncResult {
  const requeueAfterMs =
    run.deferMs === undefined
      ? requeue
      : requeue === undefined
        ? run.deferMs
        : Math.min(requeue, run.deferMs);
  return {
    retry,
    ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
    writes: run.writes,
    versions: run.versions,
  };
}

// Member calls that failed or hung are retried with backoff; the rest wait for an event (spec
// change, member change, cluster Ready).
const isRetryable = (code: string | undefined) => isRecoverablePropagationStatus(code);

/** Strays: managed copies of a federated object that no longer exists lose their label, nothing more. */
async function strays(run: Run): Promise<SyncResult> {
  const outcomes = await forEachCluster(run.ctx.members, async (m) => {
    run.versions.set(m.name, null);
    const action = decideMember({
      fed: { phase: 'absent' },
      placement: 'unplaced',
      clusterReady: m.ready && m.synced,
      copy: copyFact(m, run),
    });
    return carryOut(action, m, new Map(), {}, run);
  });
  return result(
    run,
    outcomes.some((o) => isRetryable(o?.status)),
  );
}

async function releaseFinalizer(run: Run): Promise<SyncResult> {
  const fed = run.fed!;
  for (const m of run.ctx.members) run.versions.set(m.name, null);
  if (!fed.metadata?.finalizers?.includes(SYNC_FINALIZER)) return result(run, false);
  await run.ctx.hostWriter.setFinalizers(
    fed,
    (fed.metadata?.finalizers ?? []).filter((f) => f !== SYNC_FINALIZER),
  );
  run.writes++;
  return result(run, false);
}

async function writeStatusIfChanged(run: Run, status: PropagationStatus): Promise<void> {
  const { ctx } = run;
  const change = statusChange(run.fed?.status, status);
  if (change === 'none') return;
  if (change === 'workload' && ctx.statusMinIntervalMs) {
    const last = ctx.lastStatusWriteAt?.();
    const wait =
      last === undefined ? 0 : last + ctx.statusMinIntervalMs - (ctx.now?.() ?? new Date()).getTime();
    if (wait > 0) {
      run.deferMs = wait;
      return;
    }
  }
  await ctx.hostWriter.writeStatus(run.fed!, status);
  run.writes++;
  const events = clusterEvents(run.fed?.status, status);
  if (events.length > 0) ctx.recordEvents?.(run.fed!, events);
}

function copyFact(m: MemberView, run: Run, hostUid?: HostUid): CopyFact {
  if (!m.synced && !(m.everSynced ?? false)) return { state: 'unknown' };
  const existing = m.cached(run.name, run.namespace);
  if (!existing) return { state: 'absent' };
  const owner = ownerUidOf(existing as KubeObject);
  return {
    state: 'present',
    ...(hostUid === undefined
      ? {}
      : { hostNamespace: hostUid === 'unknown' ? 'unknown' : hostUid === existing.metadata?.uid }),
    deleting:
      existing.metadata?.deletionTimestamp !== undefined && existing.metadata?.deletionTimestamp !== null,
    ...(owner !== undefined ? { ownerUid: owner } : {}),
  };
}

/** The host's Namespace UID (Namespace targets), `null` if it has none, 'unknown' if it cannot be read. */
type HostUid = string | null | 'unknown';

/**
 * Asked only when a member copy of a Namespace might be deleted (the object is deleting, or some
 * cluster is not placed): one host read, so the host's own namespace is recognised by identity.
 */
async function hostNamespaceUid(
  run: Run,
  deleting: boolean,
  placement: PlacementResult,
): Promise<HostUid | undefined> {
  const { ctx } = run;
  if (ctx.target.kind !== 'Namespace' || ctx.target.namespaced || !ctx.hostNamespaceUid) return undefined;
  const mayDelete = ctx.members.some(
    (m) =>
      (deleting || placement.of(m.name) === 'unplaced') && m.cached(run.name, run.namespace) !== undefined,
  );
  if (!mayDelete) return undefined;
  try {
    return (await timed(ctx, undefined, () => ctx.hostNamespaceUid!(run.name))) ?? null;
  } catch {
    return 'unknown';
  }
}

/** Why a FederatedNamespace is ignored, if it is. */
function ignoredNamespace(
  fed: FederatedObject,
  ctx: SyncContext,
): { reason: string; message: string } | undefined {
  if (ctx.target.kind !== 'Namespace' || ctx.target.namespaced) return undefined;
  const name = fed.metadata?.name ?? '';
  const namespace = fed.metadata?.namespace ?? '';
  if (namespace !== '' && name !== namespace)
    return {
      reason: PropagationReason.NamespaceNameMismatch,
      message: PropagationMessage.namespaceNameMismatch(name, namespace),
    };
  if (SYSTEM_NAMESPACES.has(name) || name === ctx.controlPlaneNamespace)
    return {
      reason: PropagationReason.ProtectedNamespace,
      message: PropagationMessage.protectedNamespace(name),
    };
  return undefined;
}

interface PlacementResult {
  of(cluster: string): PlacementFact;
  /** Placement could not be computed (bad spec): terminal for a live object. */
  failure?: { reason: string; message: string };
  /** The namespace's placement is not known yet. */
  unknown?: boolean;
  /** The namespace has no FederatedNamespace: nothing is created, nothing deleted. */
  notFederated?: boolean;
}

function computePlacement(fed: FederatedObject, run: Run): PlacementResult {
  const { ctx } = run;
  const unknown: PlacementResult = { of: () => 'unknown', unknown: true };
  let placed: string[];
  try {
    placed = selectClusters(fed.spec?.placement, ctx.members);
  } catch (e) {
    return {
      ...unknown,
      unknown: false,
      failure: { reason: PropagationReason.ComputePlacementFailed, message: errorMessage(e) },
    };
  }
  if (ctx.target.namespaced && run.namespace !== undefined && ctx.namespacePlacement) {
    const ns = ctx.namespacePlacement(run.namespace);
    if (!ns.known) return unknown;
    // No FederatedNamespace: KubeFed removed the members' copies. fedctl waits instead: the usual causes
    // are ordering (the FederatedNamespace applied later) or an orphaning deletion of it, and deleting
    // a FederatedNamespace already deletes its member namespaces with their contents.
    if (ns.clusters === undefined) return { of: () => 'unknown', notFederated: true };
    placed = placementForNamespaced(placed, ns.clusters);
  }
  const set = new Set(placed);
  return { of: (c) => (set.has(c) ? 'placed' : 'unplaced') };
}

async function carryOut(
  action: MemberAction,
  m: MemberView,
  opsByCluster: OpsByCluster,
  deleteOptions: DeleteOptions | Error,
  run: Run,
): Promise<(ClusterOutcome & Extra) | undefined> {
  const previous = previousEntry(run.fed, m.name);
  switch (action.action) {
    case 'none':
      return undefined;
    case 'wait':
      // Unknown state keeps the last known report (and recorded version); a cluster known to be
      // unreachable is reported as such, its recorded version kept for when it returns.
      if (action.code === Code.CachedRetrievalFailed && previous && !action.blocksFinalizer)
        return { ...previous, blocksFinalizer: false, unknown: true };
      return {
        name: m.name,
        status: action.code,
        // The last workload report stays visible (its replicas no longer count as ready).
        ...(previous?.workload ? { workload: previous.workload } : {}),
        ...(previous?.remoteStatus !== undefined ? { remoteStatus: previous.remoteStatus } : {}),
        ...(action.code === Code.ClusterNotReady && run.fed?.metadata?.deletionTimestamp
          ? { message: PropagationMessage.waitingForCluster(m.name) }
          : {}),
        ...(previous?.version ? { version: previous.version } : {}),
        blocksFinalizer: action.blocksFinalizer,
      };
    case 'apply': {
      const ops = opsByCluster.get(m.name) ?? [];
      if (ops instanceof Error)
        return { name: m.name, status: Code.ApplyOverridesFailed, message: ops.message };
      const { seen, ...outcome } = await applyToMember(m, ops, run);
      if (outcome.version !== undefined) run.versions.set(m.name, outcome.version);
      return { name: m.name, ...outcome, ...memberReport(seen ?? m.cached(run.name, run.namespace), run) };
    }
    case 'delete': {
      const existing = m.cached(run.name, run.namespace)!;
      if (deleteOptions instanceof Error)
        return {
          name: m.name,
          status: Code.DeletionFailed,
          message: deleteOptions.message,
          blocksFinalizer: true,
        };
      run.versions.set(m.name, null);
      const code = await deleteCopy(m, existing, deleteOptions, run);
      return code ? { name: m.name, status: code, blocksFinalizer: true } : undefined;
    }
    case 'unlabel': {
      const existing = m.cached(run.name, run.namespace)!;
      run.versions.set(m.name, null);
      const code = await unlabel(m, existing, run);
      if (code) return { name: m.name, status: code, blocksFinalizer: true };
      return undefined;
    }
  }
}

/**
 * The member copy as the cache (or fedctl's own write just now) shows it: the workload's state and,
 * with status collection, its raw status. Never an extra request.
 */
function memberReport(
  member: KubernetesObject | undefined,
  run: Run,
): { workload?: ClusterOutcome['workload']; remoteStatus?: unknown } {
  if (!member) return {};
  const workload = workloadState(member as KubeObject);
  const raw = (member as { status?: unknown }).status;
  return {
    ...(workload ? { workload } : {}),
    ...(run.ctx.statusCollection && raw !== undefined && raw !== null ? { remoteStatus: raw } : {}),
  };
}

type Outcome = {
  status?: string;
  message?: string;
  version?: string;
  /** The freshest copy this reconcile saw: its write's response, else the copy it compared with. */
  seen?: KubernetesObject;
};

async function applyToMember(m: MemberView, ops: Operation[], run: Run): Promise<Outcome> {
  const { ctx } = run;
  const fed = run.fed!;
  const build = (member?: KubernetesObject) =>
    memberObject({
      fed,
      target: ctx.target,
      ops,
      cluster: m.name,
      member: member as KubeObject | undefined,
      retention: { retainReplicas: fed.spec?.retainReplicas === true },
    }) as KubernetesObject;
  const existing = m.cached(run.name, run.namespace);
  let candidate: KubernetesObject;
  try {
    candidate = build(existing);
  } catch (e) {
    return {
      status: ops.length > 0 ? Code.ApplyOverridesFailed : Code.ComputeResourceFailed,
      message: errorMessage(e),
    };
  }
  if (existing) return update(m, candidate, existing, run);
  try {
    const created = await timed(ctx, m.name, () => ctx.memberWriter.create(m.name, candidate));
    run.writes++;
    run.propagated = true;
    return { version: versionOf(created), seen: created };
  } catch (e) {
    if (e instanceof TimeoutError) return { status: Code.CreationTimedOut, message: e.message };
    if (!isAlreadyExists(e)) return { status: Code.CreationFailed, message: errorMessage(e) };
  }
  // The object exists but is not in the managed cache: unlabelled (adopt) or labelled false (leave).
  let live: KubernetesObject | undefined;
  try {
    live = await timed(ctx, m.name, () => ctx.memberWriter.get(m.name, run.name, run.namespace));
  } catch (e) {
    return { status: Code.RetrievalFailed, message: errorMessage(e) };
  }
  if (!live) return { status: Code.CreationFailed, message: 'object exists but could not be read back' };
  if (live.metadata?.labels?.[MANAGED_LABEL] === 'false') return { status: Code.ManagedLabelFalse };
  if (
    !ctx.adoptResources &&
    live.metadata?.labels?.[MANAGED_LABEL] !== 'true' &&
    !(await isHostNamespace(live, run))
  )
    return { status: Code.AlreadyExists };
  try {
    return await update(m, build(live), live, run);
  } catch (e) {
    return { status: Code.ComputeResourceFailed, message: errorMessage(e) };
  }
}

/** KubeFed adopted the host's own namespace even with adoption disabled: it holds the federated object. */
async function isHostNamespace(live: KubernetesObject, run: Run): Promise<boolean> {
  if (run.ctx.target.kind !== 'Namespace' || !run.ctx.hostNamespaceUid) return false;
  try {
    return (await run.ctx.hostNamespaceUid(run.name)) === live.metadata?.uid;
  } catch {
    return false;
  }
}

async function update(
  m: MemberView,
  candidate: KubernetesObject,
  existing: KubernetesObject,
  run: Run,
): Promise<Outcome> {
  const { ctx } = run;
  const recorded = ctx.recordedVersion?.(m.name) ?? previousEntry(run.fed, m.name)?.version;
  if (upToDate(candidate as KubeObject, existing as KubeObject, recorded))
    return { version: versionOf(existing), seen: existing };
  try {
    const written = await timed(ctx, m.name, () => ctx.memberWriter.replace(m.name, candidate));
    run.writes++;
    run.propagated = true;
    return { version: versionOf(written), seen: written };
  } catch (e) {
    if (e instanceof TimeoutError) return { status: Code.UpdateTimedOut, message: e.message };
    return { status: Code.UpdateFailed, message: errorMessage(e) };
  }
}

/** Remove the managed label and fedctl's annotations; the object itself stays. */
async function unlabel(m: MemberView, existing: KubernetesObject, run: Run): Promise<string | undefined> {
  const labels = { ...(existing.metadata?.labels ?? {}) };
  delete labels[MANAGED_LABEL];
  const annotations = { ...(existing.metadata?.annotations ?? {}) };
  for (const key of FEDCTL_ANNOTATIONS) delete annotations[key];
  const next = structuredClone(existing);
  next.metadata = { ...next.metadata, labels, annotations };
  try {
    await timed(run.ctx, m.name, () => run.ctx.memberWriter.replace(m.name, next));
    run.writes++;
    run.propagated = true;
    run.ctx.log?.info('removed the managed label from a member copy (object kept)', {
      cluster: m.name,
      object: describe(run),
      why: whyUnlabel(run),
    });
    return undefined;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    if (e instanceof TimeoutError) return Code.LabelRemovalTimedOut;
    return Code.LabelRemovalFailed;
  }
}

async function deleteCopy(
  m: MemberView,
  existing: KubernetesObject,
  options: DeleteOptions,
  run: Run,
): Promise<string | undefined> {
  // Delete exactly the object that was judged: a copy re-created meanwhile has another UID.
  const uid = existing.metadata?.uid;
  const opts: DeleteOptions = {
    ...options,
    ...(options.preconditions === undefined && uid ? { preconditions: { uid } } : {}),
  };
  try {
    await timed(run.ctx, m.name, () => run.ctx.memberWriter.delete(m.name, existing, opts));
    run.writes++;
    run.propagated = true;
    run.ctx.log?.info('deleted a member copy', {
      cluster: m.name,
      object: describe(run),
      why: run.fed?.metadata?.deletionTimestamp ? 'federated object deleted' : 'cluster left the placement',
      ...(options.propagationPolicy ? { propagationPolicy: options.propagationPolicy } : {}),
    });
    return Code.WaitingForRemoval;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    if (e instanceof TimeoutError) return Code.DeletionTimedOut;
    return Code.DeletionFailed;
  }
}

/**
 * `kubefed.io/deleteoption` on the federated object: JSON DeleteOptions for its member copies (e.g.
 * `{"propagationPolicy":"Orphan"}` keeps a Deployment's ReplicaSets). Without it: Background, so Jobs
 * and ReplicaSets take their pods with them (the API default orphans a Job's pods).
 */
export function parseDeleteOptions(fed: FederatedObject): DeleteOptions | Error {
  const raw = fed.metadata?.annotations?.[DELETE_OPTIONS_ANNOTATION];
  if (raw === undefined || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    return new Error(PropagationMessage.invalidDeleteOptions(errorMessage(e)));
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return new Error(PropagationMessage.invalidDeleteOptions('not a JSON object'));
  const o = parsed as Record<string, unknown>;
  const out: DeleteOptions = {};
  if (o.propagationPolicy !== undefined) {
    if (
      o.propagationPolicy !== 'Orphan' &&
      o.propagationPolicy !== 'Background' &&
      o.propagationPolicy !== 'Foreground'
    )
      return new Error(
        PropagationMessage.invalidDeleteOptions(
          `propagationPolicy ${JSON.stringify(o.propagationPolicy)} is not Orphan, Background or Foreground`,
        ),
      );
    out.propagationPolicy = o.propagationPolicy;
  }
  if (o.gracePeriodSeconds !== undefined) {
    if (
      typeof o.gracePeriodSeconds !== 'number' ||
      !Number.isInteger(o.gracePeriodSeconds) ||
      o.gracePeriodSeconds < 0
    )
      return new Error(
        PropagationMessage.invalidDeleteOptions('gracePeriodSeconds must be a whole number ≥ 0'),
      );
    out.gracePeriodSeconds = o.gracePeriodSeconds;
  }
  if (o.preconditions !== undefined) {
    if (o.preconditions === null || typeof o.preconditions !== 'object')
      return new Error(PropagationMessage.invalidDeleteOptions('preconditions must be an object'));
    out.preconditions = o.preconditions as DeleteOptions['preconditions'];
  }
  return out;
}

const describe = (run: Run) =>
  `${run.ctx.target.kind} ${run.namespace ? `${run.namespace}/` : ''}${run.name}`;

function whyUnlabel(run: Run): string {
  if (!run.fed) return 'no federated object claims it (stray)';
  if (run.fed.metadata?.annotations?.[ORPHAN_ANNOTATION] === 'true') return 'orphaning deletion';
  return 'fedctl did not create or adopt it for this federated object, or it is the host namespace';
}

function previousEntry(
  fed: FederatedObject | undefined,
  cluster: string,
): ClusterPropagationStatus | undefined {
  return fed?.status?.clusters?.find((c) => c.name === cluster);
}

/** Run per-cluster work concurrently so a slow cluster never delays the verdict for the others. */
function forEachCluster<T>(members: MemberView[], fn: (m: MemberView) => Promise<T>): Promise<T[]> {
  return Promise.all(members.map(fn));
}

export class TimeoutError extends Error {}

/** A member call (or, with cluster undefined, a host call) under the operation time limit. */
async function timed<T>(ctx: SyncContext, cluster: string | undefined, op: () => Promise<T>): Promise<T> {
  const timers: NodeJS.Timeout[] = [];
  const lost = cluster === undefined ? undefined : ctx.lostSignal?.(cluster);
  let onAbort: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    timers.push(
      setTimeout(
        () => reject(new TimeoutError(`no answer within ${ctx.operationTimeoutMs} ms`)),
        ctx.operationTimeoutMs,
      ),
    );
    if (ctx.onSlow && cluster !== undefined)
      timers.push(setTimeout(() => ctx.onSlow?.(cluster), ctx.patienceMs ?? 1000));
    if (lost) {
      onAbort = () =>
        reject(new TimeoutError(`cluster ${cluster} stopped answering and was judged not ready`));
      if (lost.aborted) onAbort();
      else lost.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([op(), limit]);
  } finally {
    for (const t of timers) clearTimeout(t);
    if (lost && onAbort) lost.removeEventListener('abort', onAbort);
  }
}

/** Clusters the placement names that are not joined: reported, so a typo does not go unnoticed. */
function unknownClusters(fed: FederatedObject, members: MemberView[]): ClusterOutcome[] {
  const listed = (fed.spec?.placement as { clusters?: Array<{ name?: string }> } | undefined)?.clusters ?? [];
  const known = new Set(members.map((m) => m.name));
  return [...new Set(listed.map((c) => c.name ?? ''))]
    .filter((n) => n !== '' && !known.has(n))
    .sort()
    .map((n) => ({
      name: n,
      status: Code.ClusterNotFound,
      message: `no KubeFedCluster named ${n}`,
    }));
}

type OpsByCluster = Map<string, Operation[] | Error>;

/**
 * Overrides per cluster. A bad entry (refused path, unknown op, cluster listed twice) fails only the
 * cluster it names, as ApplyOverridesFailed; the other clusters still converge.
 */
export function overridesPerCluster(items: unknown): OpsByCluster {
  const out: OpsByCluster = new Map();
  if (items == null) return out;
  if (!Array.isArray(items)) {
    out.set('*', new Error('spec.overrides must be a list'));
    return out;
  }
  for (const item of items as Array<{ clusterName?: string }>) {
    const cluster = item?.clusterName ?? '';
    if (out.has(cluster)) {
      out.set(cluster, new Error(`cluster ${cluster} is listed twice in spec.overrides`));
      continue;
    }
    try {
      out.set(cluster, overridesByCluster([item as never]).get(cluster) ?? []);
    } catch (e) {
      out.set(cluster, e instanceof Error ? e : new Error(String(e)));
    }
  }
  return out;
}
