import type { KubernetesObject } from '@kubernetes/client-node';
import {
  isRecoverablePropagationStatus,
  PropagationStatus as PropagationStatusCode,
} from '../api/conditions.ts';
import { MANAGED_LABEL, ORPHAN_ANNOTATION, SYNC_FINALIZER } from '../api/constants.ts';
import { errorMessage, isAlreadyExists, isNotFound } from '../kube/errors.ts';
import { desiredObject } from './desired.ts';
import { needsUpdate } from './equality.ts';
import { type Operation, overridesByCluster } from './overrides.ts';
import { placementForNamespaced, selectClusters } from './placement.ts';
import { retainFields } from './retention.ts';
import {
  type ClusterOutcome,
  computePropagationStatus,
  type PropagationStatus,
  statusChanged,
} from './status.ts';

// The sync reconciler for one federated object: level-triggered and idempotent. It reads only from
// the caches and views it is given, decides with the pure modules, and sends a member write only where
// the member differs from what is desired. All I/O goes through the injected ports, so unit tests seed
// the views and assert the exact list of writes.

/** A federated object as read from the host cache (treat as read-only). */
export interface FederatedObject extends KubernetesObject {
  spec?: {
    template?: Record<string, unknown>;
    placement?: unknown;
    overrides?: unknown;
    retainReplicas?: boolean;
  };
  status?: PropagationStatus;
}

export interface TargetType {
  apiVersion: string;
  kind: string;
  namespaced: boolean;
}

/** What the reconciler knows about one member cluster. */
export interface MemberView {
  name: string;
  labels: Record<string, string>;
  /** Healthy as judged by the health prober. */
  ready: boolean;
  /** This member is the host cluster itself: its namespaces are never deleted, only unlabelled. */
  isHost: boolean;
  /** The member's cache of managed objects of the target type has synced. */
  synced: boolean;
  /** A managed object (label kubefed.io/managed=true) of the target type from the member's cache. */
  cached(name: string, namespace?: string): KubernetesObject | undefined;
}

/** Writes to member clusters. Each call either resolves or throws an API error. */
export interface MemberWriter {
  create(cluster: string, obj: KubernetesObject): Promise<KubernetesObject>;
  replace(cluster: string, obj: KubernetesObject): Promise<KubernetesObject>;
  delete(cluster: string, obj: KubernetesObject): Promise<void>;
  /** A live read, for objects the managed-only cache cannot see (unlabelled or labelled false). */
  get(cluster: string, name: string, namespace?: string): Promise<KubernetesObject | undefined>;
}

/** Writes to the federated object in the host. */
export interface HostWriter {
  setFinalizers(fed: FederatedObject, finalizers: string[]): Promise<void>;
  writeStatus(fed: FederatedObject, status: PropagationStatus): Promise<void>;
}

export interface SyncContext {
  target: TargetType;
  members: MemberView[];
  memberWriter: MemberWriter;
  hostWriter: HostWriter;
  /** Clusters the object's namespace is federated to; undefined when it is not federated. Namespaced types only. */
  namespaceClusters?: (namespace: string) => string[] | undefined;
  /** KubeFedConfig syncController.adoptResources. */
  adoptResources: boolean;
  /** Per-member-operation time limit; a hang is reported as <Op>TimedOut. */
  operationTimeoutMs: number;
  now?: () => Date;
}

export interface SyncResult {
  /** Ask to be called again (a cluster failed, a cache was not ready, removal is pending). */
  retry: boolean;
  requeueAfterMs?: number;
  writes: number;
}

const isManagedFalse = (obj: KubernetesObject | undefined) =>
  obj?.metadata?.labels?.[MANAGED_LABEL] === 'false';

/**
 * Reconcile one federated object. `fed` is undefined when it no longer exists in the host: then any
 * managed member objects left behind (by a cluster that was offline during deletion) are removed.
 */
export async function syncFederatedObject(
  name: string,
  namespace: string | undefined,
  fed: FederatedObject | undefined,
  ctx: SyncContext,
): Promise<SyncResult> {
  const targetNamespace = ctx.target.namespaced ? namespace : undefined;
  const counter = { writes: 0 };

  if (!fed) {
    const outcomes = await forEachCluster(ctx.members, async (m) => {
      const existing = m.ready && m.synced ? m.cached(name, targetNamespace) : undefined;
      if (!existing) return undefined;
      return removeFromMember(m, existing, ctx, counter, false);
    });
    return { retry: outcomes.some((o) => o !== undefined), writes: counter.writes };
  }

  if (fed.metadata?.deletionTimestamp) return finalize(fed, name, targetNamespace, ctx, counter);

  // The finalizer is sent alongside the member writes rather than before them: it saves a round trip
  // on every new object, and if the federated object vanishes before the finalizer lands, its member
  // copies are removed as strays (the `!fed` branch above).
  const finalizerAdded = fed.metadata?.finalizers?.includes(SYNC_FINALIZER)
    ? Promise.resolve()
    : ctx.hostWriter.setFinalizers(fed, [...(fed.metadata?.finalizers ?? []), SYNC_FINALIZER]).then(() => {
        counter.writes++;
      });
  // Surfaced in writeStatus; a rejection must not go unhandled while member writes run.
  finalizerAdded.catch(() => undefined);

  const generation = fed.metadata?.generation;
  const now = ctx.now?.() ?? new Date();
  // Every path ends here, so a failed finalizer write always surfaces (and is retried).
  const writeStatus = async (status: PropagationStatus) => {
    await finalizerAdded;
    if (statusEqual(fed.status, status)) return;
    await ctx.hostWriter.writeStatus(fed, status);
    counter.writes++;
  };

  // Object-level decisions: placement, namespace federation, overrides. A bad spec is terminal:
  // a False condition with a reason, no retry loop (a spec change re-triggers reconcile).
  let placed: string[];
  try {
    placed = selectClusters(fed.spec?.placement as never, ctx.members);
  } catch (e) {
    await writeStatus(
      computePropagationStatus({
        generation,
        now,
        previous: fed.status,
        failure: { reason: 'ComputePlacementFailed', message: errorMessage(e) },
        clusters: [],
      }),
    );
    return { retry: false, writes: counter.writes };
  }
  if (ctx.target.namespaced && namespace !== undefined && ctx.namespaceClusters) {
    const nsClusters = ctx.namespaceClusters(namespace);
    if (nsClusters === undefined) {
      // Nothing is placed; members lose what they had (KubeFed: NamespaceNotFederated).
      const outcomes = await reconcileMembers(fed, name, targetNamespace, [], new Map(), ctx, counter);
      await writeStatus(
        computePropagationStatus({
          generation,
          now,
          previous: fed.status,
          failure: {
            reason: 'NamespaceNotFederated',
            message: `namespace "${namespace}" has no FederatedNamespace`,
          },
          clusters: outcomes,
        }),
      );
      return { retry: outcomes.some(isRetryable), writes: counter.writes };
    }
    placed = placementForNamespaced(placed, nsClusters);
  }
  const opsByCluster = overridesPerCluster(fed.spec?.overrides);
  const malformed = opsByCluster.get('*');
  if (malformed instanceof Error) {
    await writeStatus(
      computePropagationStatus({
        generation,
        now,
        previous: fed.status,
        failure: { reason: 'ComputePlacementFailed', message: malformed.message },
        clusters: [],
      }),
    );
    return { retry: false, writes: counter.writes };
  }
  const outcomes = await reconcileMembers(fed, name, targetNamespace, placed, opsByCluster, ctx, counter);
  outcomes.push(...unknownClusters(fed, ctx.members));
  await writeStatus(computePropagationStatus({ generation, now, previous: fed.status, clusters: outcomes }));
  const notSynced = outcomes.some((o) => o.status === 'CachedRetrievalFailed');
  return {
    retry: outcomes.some(isRetryable),
    requeueAfterMs: notSynced ? 1000 : undefined,
    writes: counter.writes,
  };
}

// Member calls that failed or hung, and removals not yet observed, are retried with backoff; the rest
// wait for an event (spec change, member change, cluster Ready).
const isRetryable = (o: ClusterOutcome | undefined) =>
  o?.status !== undefined &&
  (isRecoverablePropagationStatus(o.status) || o.status === PropagationStatusCode.WaitingForRemoval);

async function reconcileMembers(
  fed: FederatedObject,
  name: string,
  namespace: string | undefined,
  placed: string[],
  opsByCluster: OpsByCluster,
  ctx: SyncContext,
  counter: { writes: number },
): Promise<ClusterOutcome[]> {
  const placedSet = new Set(placed);
  const results = await forEachCluster(ctx.members, async (m): Promise<ClusterOutcome | undefined> => {
    const isPlaced = placedSet.has(m.name);
    if (!m.ready) return isPlaced ? { name: m.name, status: 'ClusterNotReady' } : undefined;
    if (!m.synced) return isPlaced ? { name: m.name, status: 'CachedRetrievalFailed' } : undefined;
    const existing = m.cached(name, namespace);
    if (!isPlaced) {
      // Removed from placement: the member loses the object (nothing is reported for it once gone).
      if (!existing) return undefined;
      const code = await removeFromMember(m, existing, ctx, counter, false);
      return code ? { name: m.name, status: code } : undefined;
    }
    const ops = opsByCluster.get(m.name) ?? [];
    if (ops instanceof Error) return { name: m.name, status: 'ApplyOverridesFailed', message: ops.message };
    let desired: KubernetesObject;
    try {
      // Overrides go in here so name, namespace, kind and the managed label are re-applied after them.
      desired = desiredObject(fed as never, ctx.target, ops, m.name) as KubernetesObject;
    } catch (e) {
      return {
        name: m.name,
        status: ops.length > 0 ? 'ApplyOverridesFailed' : 'ComputeResourceFailed',
        message: errorMessage(e),
      };
    }
    return { name: m.name, ...(await applyToMember(m, desired, existing, fed, ctx, counter)) };
  });
  return results.filter((r): r is ClusterOutcome => r !== undefined);
}

type Outcome = { status?: string; message?: string };

async function applyToMember(
  m: MemberView,
  desired: KubernetesObject,
  existing: KubernetesObject | undefined,
  fed: FederatedObject,
  ctx: SyncContext,
  counter: { writes: number },
): Promise<Outcome> {
  const retainReplicas = fed.spec?.retainReplicas === true;
  if (existing) return update(m, desired, existing, retainReplicas, ctx, counter);
  try {
    await timed(ctx, () => ctx.memberWriter.create(m.name, desired));
    counter.writes++;
    return {};
  } catch (e) {
    if (e instanceof TimeoutError) return { status: 'CreationTimedOut', message: e.message };
    if (!isAlreadyExists(e)) return { status: 'CreationFailed', message: errorMessage(e) };
  }
  // The object exists but is not in the managed cache: unlabelled (adopt) or labelled false (leave).
  let live: KubernetesObject | undefined;
  try {
    live = await timed(ctx, () =>
      ctx.memberWriter.get(m.name, desired.metadata?.name ?? '', desired.metadata?.namespace),
    );
  } catch (e) {
    return { status: 'RetrievalFailed', message: errorMessage(e) };
  }
  if (!live) return { status: 'CreationFailed', message: 'object exists but could not be read back' };
  if (isManagedFalse(live)) return { status: 'ManagedLabelFalse' };
  if (!ctx.adoptResources && live.metadata?.labels?.[MANAGED_LABEL] !== 'true')
    return { status: 'AlreadyExists' };
  return update(m, desired, live, retainReplicas, ctx, counter);
}

async function update(
  m: MemberView,
  desired: KubernetesObject,
  existing: KubernetesObject,
  retainReplicas: boolean,
  ctx: SyncContext,
  counter: { writes: number },
): Promise<Outcome> {
  const candidate = retainFields(desired, existing, { retainReplicas }) as KubernetesObject;
  if (!needsUpdate(candidate, existing)) return {};
  try {
    await timed(ctx, () => ctx.memberWriter.replace(m.name, candidate));
    counter.writes++;
    return {};
  } catch (e) {
    if (e instanceof TimeoutError) return { status: 'UpdateTimedOut', message: e.message };
    return { status: 'UpdateFailed', message: errorMessage(e) };
  }
}

/** Delete a managed object from a member, or (orphaning, or a host-cluster namespace) remove its managed label. */
async function removeFromMember(
  m: MemberView,
  existing: KubernetesObject,
  ctx: SyncContext,
  counter: { writes: number },
  orphan: boolean,
): Promise<string | undefined> {
  // Deleting a namespace in the host cluster would delete the federated objects living in it.
  const unlabelOnly = orphan || (m.isHost && existing.kind === 'Namespace');
  if (unlabelOnly) {
    const labels = { ...(existing.metadata?.labels ?? {}) };
    delete labels[MANAGED_LABEL];
    const next = {
      ...structuredClone(existing),
      metadata: { ...structuredClone(existing.metadata), labels },
    };
    try {
      await timed(ctx, () => ctx.memberWriter.replace(m.name, next));
      counter.writes++;
      return undefined;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      if (e instanceof TimeoutError) return 'LabelRemovalTimedOut';
      return 'LabelRemovalFailed';
    }
  }
  if (existing.metadata?.deletionTimestamp) return 'WaitingForRemoval';
  try {
    await timed(ctx, () => ctx.memberWriter.delete(m.name, existing));
    counter.writes++;
    return 'WaitingForRemoval';
  } catch (e) {
    if (isNotFound(e)) return undefined;
    if (e instanceof TimeoutError) return 'DeletionTimedOut';
    return 'DeletionFailed';
  }
}

/**
 * Deletion of the federated object: remove (or orphan) member objects, then drop the finalizer.
 * Unlike KubeFed, a cluster that is not Ready does not block deletion forever: its copy is left and,
 * being labelled managed, is removed as a stray when the cluster returns (see the `!fed` branch).
 */
async function finalize(
  fed: FederatedObject,
  name: string,
  namespace: string | undefined,
  ctx: SyncContext,
  counter: { writes: number },
): Promise<SyncResult> {
  if (!fed.metadata?.finalizers?.includes(SYNC_FINALIZER)) return { retry: false, writes: 0 };
  const orphan = fed.metadata?.annotations?.[ORPHAN_ANNOTATION] === 'true';
  const outcomes = await forEachCluster(ctx.members, async (m): Promise<ClusterOutcome | undefined> => {
    if (!m.ready || !m.synced) return undefined;
    const existing = m.cached(name, namespace);
    if (!existing) return undefined;
    const code = await removeFromMember(m, existing, ctx, counter, orphan);
    return code ? { name: m.name, status: code } : undefined;
  });
  const pending = outcomes.filter((o): o is ClusterOutcome => o !== undefined);
  if (pending.length > 0) {
    const status = computePropagationStatus({
      generation: fed.metadata?.generation,
      now: ctx.now?.() ?? new Date(),
      previous: fed.status,
      clusters: pending,
    });
    if (!statusEqual(fed.status, status)) {
      await ctx.hostWriter.writeStatus(fed, status);
      counter.writes++;
    }
    return { retry: true, requeueAfterMs: 1000, writes: counter.writes };
  }
  await ctx.hostWriter.setFinalizers(
    fed,
    (fed.metadata?.finalizers ?? []).filter((f) => f !== SYNC_FINALIZER),
  );
  counter.writes++;
  return { retry: false, writes: counter.writes };
}

/** Run per-cluster work concurrently so a slow cluster never delays the verdict for the others. */
function forEachCluster<T>(members: MemberView[], fn: (m: MemberView) => Promise<T>): Promise<T[]> {
  return Promise.all(members.map(fn));
}

export class TimeoutError extends Error {}

async function timed<T>(ctx: SyncContext, op: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`no answer within ${ctx.operationTimeoutMs} ms`)),
      ctx.operationTimeoutMs,
    );
  });
  try {
    return await Promise.race([op(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function statusEqual(a: PropagationStatus | undefined, b: PropagationStatus): boolean {
  return !statusChanged(a, b);
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
      status: PropagationStatusCode.ClusterNotFound,
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
