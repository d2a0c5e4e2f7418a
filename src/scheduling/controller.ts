// ReplicaSchedulingPreference controller: keeps the placement and `/spec/replicas` overrides of the
// FederatedDeployment / FederatedReplicaSet with the RSP's namespace and name in line with the plan
// from planner.ts. KubeFed v0.10 behaviour where users can observe it:
// - the target is written only when placement or replica overrides differ (no steady-state writes);
// - deleting the RSP leaves the target as last written (KubeFed's controller did "nothing to do"
//   for a missing RSP: no finalizer, no cleanup), so replicas do not jump when a policy is removed;
// - with no candidate cluster the target is left alone.
// fedctl additions: a `Scheduled` condition on the RSP saying what was done or why not.

import type { KubernetesObject } from '@kubernetes/client-node';
import { ConditionType, type ConditionUpdate, SchedulingReason, setCondition } from '../api/conditions.ts';
import { MANAGED_LABEL } from '../api/constants.ts';
import type {
  Condition,
  FederatedObject,
  ReplicaSchedulingPreference,
  ReplicaSchedulingPreferenceSpec,
} from '../api/types.ts';
import type { MemberCache, MemberResource } from '../clusters/member-cache.ts';
import type { Member } from '../clusters/registry.ts';
import type { ClusterClients } from '../kube/clients.ts';
import { errorMessage } from '../kube/errors.ts';
import { SupervisedInformer } from '../kube/informer.ts';
import type { Logger } from '../kube/logger.ts';
import type { Registry } from '../kube/metrics.ts';
import {
  DEPLOYMENT_REF,
  FEDERATED_DEPLOYMENT_REF,
  FEDERATED_REPLICASET_REF,
  objectKey,
  REPLICASET_REF,
  type ResourceRef,
  RSP_REF,
  splitKey,
} from '../kube/refs.ts';
import { patchResource, patchStatus } from '../kube/resources.ts';
import { type EventSource, Runner } from '../kube/runner.ts';
import { type ClusterLabels, PlacementError } from '../propagation/placement.ts';
import {
  applyPlan,
  candidateClusters,
  planReplicas,
  type ReplicaPlan,
  SCHEDULABLE_KINDS,
  type ScheduledSpec,
} from './planner.ts';

/** The federated kinds an RSP can target and the member kind whose ready replicas count. */
export const TARGETS: Readonly<Record<string, { federated: ResourceRef; member: ResourceRef }>> = {
  FederatedDeployment: { federated: FEDERATED_DEPLOYMENT_REF, member: DEPLOYMENT_REF },
  FederatedReplicaSet: { federated: FEDERATED_REPLICASET_REF, member: REPLICASET_REF },
};

/** Target cache not listed yet (CRD missing or API slow): look again after this. */
const NOT_SYNCED_RETRY_MS = 5_000;

type Rsp = ReplicaSchedulingPreference & KubernetesObject;
type Target = FederatedObject & KubernetesObject;

/** A host resource as the controller reads it (SupervisedInformer satisfies it). */
export interface HostResource<T extends KubernetesObject> extends EventSource<T> {
  get(name: string, namespace?: string): T | undefined;
  list(): T[];
  hasSynced(): boolean;
}

export interface SchedulingControllerOptions {
  members: () => Member[];
  isReady: (cluster: string) => boolean;
  rsps: HostResource<Rsp>;
  /** Per target kind (FederatedDeployment, FederatedReplicaSet), the host cache of targets. */
  targets: Readonly<Record<string, HostResource<Target>>>;
  /** Per target kind, the member workloads (Deployments, ReplicaSets) from the shared cache. */
  workloads: Readonly<Record<string, MemberResource>>;
  writer: SchedulingWriter;
  log: Logger;
  metrics?: Registry;
  workers?: number;
  now?: () => Date;
}

/** What one scheduling pass decided (pure; see scheduleTarget). */
export type ScheduleDecision =
  | { ok: true; plan: ReplicaPlan; scheduled: ScheduledSpec; message: string }
  | { ok: false; reason: SchedulingReason; message: string };

/**
 * The scheduling decision for one RSP and its target, given the Ready clusters and (without
 * rebalance) the replicas ready in each. Pure: the controller and its tests share it.
 */
export function scheduleTarget(input: {
  rsp: { spec: ReplicaSchedulingPreferenceSpec; key: string };
  target: Pick<FederatedObject, 'spec'> | undefined;
  readyClusters: readonly ClusterLabels[];
  currentReplicas?: Readonly<Record<string, number>>;
}): ScheduleDecision {
  const { spec, key } = input.rsp;
  if (!SCHEDULABLE_KINDS.has(spec.targetKind)) {
    return {
      ok: false,
      reason: SchedulingReason.TargetKindUnsupported,
      message: `targetKind ${JSON.stringify(spec.targetKind)} is not one of ${[...SCHEDULABLE_KINDS].join(', ')}`,
    };
  }
  if (input.target === undefined) {
    return {
      ok: false,
      reason: SchedulingReason.TargetNotFound,
      message: `${spec.targetKind} ${key} not found`,
    };
  }
  const targetSpec = input.target.spec ?? {};
  let clusters: string[];
  let plan: ReplicaPlan;
  try {
    clusters = candidateClusters(spec, input.readyClusters, targetSpec.placement);
    if (clusters.length === 0) {
      return {
        ok: false,
        reason: SchedulingReason.NoReadyClusters,
        message:
          input.readyClusters.length === 0
            ? 'no member cluster is Ready'
            : `the clusterSelector of ${spec.targetKind} ${key} selects no Ready cluster`,
      };
    }
    plan = planReplicas({ spec, clusters, currentReplicas: input.currentReplicas, key });
  } catch (e) {
    const what = e instanceof PlacementError ? `placement of ${spec.targetKind} ${key}` : 'plan';
    return {
      ok: false,
      reason: SchedulingReason.ComputePlacementFailed,
      message: `${what}: ${errorMessage(e)}`,
    };
  }
  const scheduled = applyPlan({ placement: targetSpec.placement, overrides: targetSpec.overrides }, plan);
  return { ok: true, plan, scheduled, message: scheduledMessage(plan) };
}

/** `cluster0: 3, cluster1: 3 (1 beyond capacity)`, sorted by cluster name. */
export function scheduledMessage(plan: ReplicaPlan): string {
  const parts = plan.clusters.map((c) => {
    const over = plan.overflow[c] ?? 0;
    return `${c}: ${plan.replicas[c]}${over > 0 ? ` (${over} beyond capacity)` : ''}`;
  });
  return parts.length > 0 ? `replicas ${parts.join(', ')}` : 'no cluster placed';
}

/**
 * The status to write, or undefined when the stored one already says the same (no write).
 * observedGeneration moves with every pass, as the condition's.
 */
export function nextStatus(
  current: Record<string, unknown> | undefined,
  decision: ScheduleDecision,
  generation: number | undefined,
  now: Date,
): Record<string, unknown> | undefined {
  const conditions = (current?.conditions as Condition[] | undefined) ?? [];
  const update: ConditionUpdate = decision.ok
    ? {
        type: ConditionType.Scheduled,
        status: 'True',
        reason: SchedulingReason.Scheduled,
        message: decision.message,
        observedGeneration: generation,
      }
    : {
        type: ConditionType.Scheduled,
        status: 'False',
        reason: decision.reason,
        message: decision.message,
        observedGeneration: generation,
      };
  const next = setCondition(conditions, update, now);
  if (next === conditions && current?.observedGeneration === generation) return undefined;
  const status: Record<string, unknown> = { ...(current ?? {}), conditions: next };
  if (generation !== undefined) status.observedGeneration = generation;
  return status;
}

/** Every write the scheduling controller makes; tests record them, production sends them to the host. */
export interface SchedulingWriter {
  /** Merge-patch the target's placement and overrides, failing (409) if it is not at resourceVersion. */
  patchTarget(
    ref: ResourceRef,
    name: string,
    namespace: string,
    patch: { metadata: { resourceVersion?: string }; spec: Pick<ScheduledSpec, 'placement' | 'overrides'> },
  ): Promise<{ resourceVersion?: string }>;
  patchStatus(name: string, namespace: string, status: Record<string, unknown>): Promise<void>;
}

/** Watches RSPs and their targets in the host and writes each plan into the target's placement and
 * replica overrides. Current replicas (rebalance off) come from the shared member cache.
 */
export class SchedulingController {
  readonly runner: Runner;
  readonly #o: SchedulingControllerOptions;
  /** resourceVersion of our last write per target key: its watch echo must not trigger a re-plan. */
  readonly #written = new Map<string, string>();
  readonly #writes;

  constructor(o: SchedulingControllerOptions) {
    this.#o = o;
    this.runner = new Runner({
      name: 'scheduling',
      log: o.log,
      metrics: o.metrics,
      workers: o.workers ?? 2,
      keys: () => o.rsps.list().map(objectKey),
      reconcile: async (key) => {
        const r = await this.reconcile(key);
        return r.requeueAfterMs !== undefined ? { requeueAfterMs: r.requeueAfterMs } : undefined;
      },
    });
    this.#writes = o.metrics?.counter(
      'fedctl_scheduling_target_writes_total',
      'Placement and replica override writes to scheduled targets',
    );
    this.runner.watch(o.rsps, objectKey);
    for (const [kind, informer] of Object.entries(o.targets)) {
      // Only spec changes matter: the propagation controller's status writes (and resyncs, which the
      // RSP informer's own resync covers) would otherwise re-plan on every member event.
      this.runner.watch(informer, (t, e) => {
        if (e.old && e.old.metadata?.generation === t.metadata?.generation) return undefined;
        // Re-planning on the echo of our own write would read the members mid-rollout (few replicas
        // ready yet) and, without rebalance, move replicas the plan just put there.
        const key = objectKey(t);
        const written = this.#written.get(key);
        if (written !== undefined && written === t.metadata?.resourceVersion) return undefined;
        return o.rsps.get(t.metadata?.name ?? '', t.metadata?.namespace)?.spec?.targetKind === kind
          ? key
          : undefined;
      });
    }
  }

  start(): void {
    this.runner.start();
  }

  async stop(): Promise<void> {
    await this.runner.stop();
  }

  /** Cluster membership or health changed: re-plan every RSP. */
  clustersChanged(): void {
    this.runner.clustersChanged();
  }

  #readyMembers(): Member[] {
    return this.#o.members().filter((m) => m.clients !== undefined && this.#o.isReady(m.name));
  }

  /** One RSP: plan, write the target if it differs, write the status if it differs. */
  async reconcile(key: string): Promise<{
    result: 'scheduled' | 'unchanged' | 'failed' | 'waiting' | 'gone';
    wroteTarget: boolean;
    requeueAfterMs?: number;
  }> {
    const [namespace, name] = splitKey(key);
    const rsp = this.#o.rsps.get(name, namespace);
    // KubeFed: a deleted RSP leaves its target as last written.
    if (!rsp) {
      this.#written.delete(key);
      return { result: 'gone', wroteTarget: false };
    }
    const spec = rsp.spec;
    const targets = TARGETS[spec?.targetKind ?? ''];
    const informer = this.#o.targets[spec?.targetKind ?? ''];
    if (targets && informer && !informer.hasSynced()) {
      return { result: 'waiting', wroteTarget: false, requeueAfterMs: NOT_SYNCED_RETRY_MS };
    }
    const target = informer?.get(name, namespace);
    const ready = this.#readyMembers();
    let currentReplicas: Record<string, number> | undefined;
    const workloads = this.#o.workloads[spec?.targetKind ?? ''];
    if (targets && target && workloads && spec.rebalance !== true) {
      currentReplicas = {};
      // A member whose cache has not listed is left out (no current count: the planner treats it as
      // running nothing), so one sick cluster does not block scheduling for the others.
      for (const m of ready)
        if (workloads.synced(m.name))
          currentReplicas[m.name] = runningReplicas(workloads.get(m.name, name, namespace) as MemberWorkload);
    }
    const decision = scheduleTarget({
      rsp: { spec, key },
      target,
      readyClusters: ready.map((m) => ({ name: m.name, labels: m.labels })),
      currentReplicas,
    });

    let wroteTarget = false;
    if (decision.ok && decision.scheduled.changed && targets && target) {
      // A merge patch replaces both arrays whole and keeps every other field; the resourceVersion makes
      // it fail (409, retried) if the target changed since the cache saw it, so a user's concurrent
      // override edit is not lost.
      const written = await this.#o.writer.patchTarget(targets.federated, name, namespace ?? '', {
        metadata: { resourceVersion: target.metadata?.resourceVersion },
        spec: { placement: decision.scheduled.placement, overrides: decision.scheduled.overrides },
      });
      wroteTarget = true;
      this.#writes?.inc({});
      if (written.resourceVersion !== undefined) this.#written.set(key, written.resourceVersion);
      this.runner.log.info('scheduled replicas', {
        key,
        kind: spec.targetKind,
        replicas: decision.plan.replicas,
      });
    } else if (!decision.ok) {
      this.runner.log.debug('not scheduled', { key, reason: decision.reason, message: decision.message });
    }

    const status = nextStatus(
      rsp.status,
      decision,
      rsp.metadata?.generation,
      (this.#o.now ?? (() => new Date()))(),
    );
    if (status) await this.#o.writer.patchStatus(name, namespace ?? '', status);
    return {
      result: !decision.ok ? 'failed' : wroteTarget ? 'scheduled' : 'unchanged',
      wroteTarget,
    };
  }
}

/** The host caches the controller reads (started and stopped by whoever runs it). */
export function schedulingHostInformers(host: ClusterClients, log: Logger) {
  const rsps = new SupervisedInformer<Rsp>({
    name: `${host.name}/${RSP_REF.plural}`,
    kc: host.kc,
    ref: RSP_REF,
    logger: log,
  });
  const targets: Record<string, SupervisedInformer<Target>> = {};
  for (const [kind, refs] of Object.entries(TARGETS))
    targets[kind] = new SupervisedInformer<Target>({
      name: `${host.name}/${refs.federated.plural}`,
      kc: host.kc,
      ref: refs.federated,
      // The type may be disabled (CRD absent): keep retrying instead of failing the control plane.
      startTimeoutMs: 0,
      logger: log,
    });
  return {
    rsps,
    targets,
    async start(): Promise<void> {
      for (const t of Object.values(targets))
        t.start().catch((e: unknown) => log.warn('target cache stopped', { error: errorMessage(e) }));
      await rsps.start();
    },
    async stop(): Promise<void> {
      await Promise.all([rsps.stop(), ...Object.values(targets).map((t) => t.stop())]);
    },
  };
}

/** The member workloads whose ready replicas count, from the shared cache (managed copies only). */
export function useWorkloadCaches(cache: MemberCache): Record<string, MemberResource> {
  return Object.fromEntries(
    Object.entries(TARGETS).map(([kind, refs]) => [
      kind,
      cache.use(refs.member, { labelSelector: `${MANAGED_LABEL}=true` }),
    ]),
  );
}

/** What writes go to in production: the host API. */
export function apiSchedulingWriter(host: ClusterClients): SchedulingWriter {
  return {
    patchTarget: async (ref, name, namespace, patch) => {
      const written = await patchResource(host.kc, ref, name, namespace, patch);
      return { resourceVersion: written.metadata?.resourceVersion };
    },
    patchStatus: async (name, namespace, status) => {
      await patchStatus(host.kc, RSP_REF, name, namespace, status);
    },
  };
}

type MemberWorkload = KubernetesObject & {
  spec?: { replicas?: number };
  status?: { readyReplicas?: number };
};

/**
 * Replicas a member workload runs for planning purposes: its ready replicas, at most its
 * spec.replicas. During a rolling update the surge pods are ready too (4 of 3 for a while); counted,
 * they would make a plan without rebalance keep a replica there that the rollout is about to remove.
 * Missing object: 0.
 */
export function runningReplicas(obj: MemberWorkload | undefined): number {
  const ready = obj?.status?.readyReplicas ?? 0;
  const spec = obj?.spec?.replicas;
  return typeof spec === 'number' ? Math.min(ready, spec) : ready;
}
