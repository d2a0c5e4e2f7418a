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
import { SCHEDULING_GROUP, SCHEDULING_VERSION, TYPES_GROUP } from '../api/constants.ts';
import type {
  Condition,
  FederatedObject,
  ReplicaSchedulingPreference,
  ReplicaSchedulingPreferenceSpec,
} from '../api/types.ts';
import type { Member } from '../clusters/registry.ts';
import type { ClusterClients } from '../kube/clients.ts';
import { errorMessage } from '../kube/errors.ts';
import { SupervisedInformer } from '../kube/informer.ts';
import type { Logger } from '../kube/logger.ts';
import type { Registry } from '../kube/metrics.ts';
import { patchResource, patchStatus, type ResourceRef, splitKey, tryGetResource } from '../kube/resources.ts';
import { runWorkers, type Workers, WorkQueue } from '../kube/workqueue.ts';
import { type ClusterLabels, PlacementError } from '../propagation/placement.ts';
import {
  applyPlan,
  candidateClusters,
  planReplicas,
  type ReplicaPlan,
  SCHEDULABLE_KINDS,
  type ScheduledSpec,
} from './planner.ts';

export const RSP_REF: ResourceRef = {
  group: SCHEDULING_GROUP,
  version: SCHEDULING_VERSION,
  kind: 'ReplicaSchedulingPreference',
  plural: 'replicaschedulingpreferences',
  namespaced: true,
};

/** The federated kinds an RSP can target and the member kind whose ready replicas count. */
export const TARGETS: Readonly<Record<string, { federated: ResourceRef; member: ResourceRef }>> = {
  FederatedDeployment: {
    federated: {
      group: TYPES_GROUP,
      version: 'v1beta1',
      kind: 'FederatedDeployment',
      plural: 'federateddeployments',
      namespaced: true,
    },
    member: { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  },
  FederatedReplicaSet: {
    federated: {
      group: TYPES_GROUP,
      version: 'v1beta1',
      kind: 'FederatedReplicaSet',
      plural: 'federatedreplicasets',
      namespaced: true,
    },
    member: { group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true },
  },
};

/** A member that does not answer within this is treated as "current replicas unknown". */
const MEMBER_READ_TIMEOUT_MS = 5_000;
/** Target cache not listed yet (CRD missing or API slow): look again after this. */
const NOT_SYNCED_RETRY_MS = 5_000;

type Rsp = ReplicaSchedulingPreference & KubernetesObject;
type Target = FederatedObject & KubernetesObject;

export interface SchedulingControllerOptions {
  host: ClusterClients;
  members: () => Member[];
  isReady: (cluster: string) => boolean;
  log: Logger;
  metrics: Registry;
  workers?: number;
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

/**
 * Watches RSPs and their targets in the host and writes each plan into the target's placement and
 * replica overrides. Current replicas (rebalance off) are read live from the members.
 */
export class SchedulingController {
  readonly #o: SchedulingControllerOptions;
  readonly #log: Logger;
  readonly #queue = new WorkQueue();
  readonly #rsps: SupervisedInformer<Rsp>;
  readonly #targets = new Map<string, SupervisedInformer<Target>>();
  /** resourceVersion of our last write per target key: its watch echo must not trigger a re-plan. */
  readonly #written = new Map<string, string>();
  #workers?: Workers;

  constructor(o: SchedulingControllerOptions) {
    this.#o = o;
    this.#log = o.log.with({ controller: 'scheduling' });
    this.#rsps = new SupervisedInformer<Rsp>({
      name: `${o.host.name}/${RSP_REF.plural}`,
      kc: o.host.kc,
      ref: RSP_REF,
      logger: this.#log,
    });
    for (const ev of ['add', 'update', 'delete'] as const)
      this.#rsps.on(ev, (r) => this.#queue.add(keyOf(r)));
    for (const [kind, refs] of Object.entries(TARGETS)) {
      const informer = new SupervisedInformer<Target>({
        name: `${o.host.name}/${refs.federated.plural}`,
        kc: o.host.kc,
        ref: refs.federated,
        // The type may be disabled (CRD absent): keep retrying instead of failing the control plane.
        startTimeoutMs: 0,
        logger: this.#log,
      });
      // Only spec changes matter: the propagation controller's status writes (and resyncs, which the
      // RSP informer's own resync covers) would otherwise re-plan on every member event.
      const enqueue = (t: Target, old?: Target) => {
        if (old && old.metadata?.generation === t.metadata?.generation) return;
        // Re-planning on the echo of our own write would read the members mid-rollout (few replicas
        // ready yet) and, without rebalance, move replicas the plan just put there.
        const key = keyOf(t);
        const written = this.#written.get(key);
        if (written !== undefined && written === t.metadata?.resourceVersion) return;
        if (this.#rsps.get(t.metadata?.name ?? '', t.metadata?.namespace)?.spec?.targetKind === kind)
          this.#queue.add(key);
      };
      for (const ev of ['add', 'update', 'delete'] as const) informer.on(ev, enqueue);
      this.#targets.set(kind, informer);
    }
  }

  async start(): Promise<void> {
    for (const informer of this.#targets.values())
      informer
        .start()
        .catch((e: unknown) => this.#log.warn('target cache stopped', { error: errorMessage(e) }));
    await this.#rsps.start();
    const results = this.#o.metrics.counter(
      'fedctl_scheduling_reconcile_total',
      'ReplicaSchedulingPreference reconciles by result',
      ['result'],
    );
    const writes = this.#o.metrics.counter(
      'fedctl_scheduling_target_writes_total',
      'Placement and replica override writes to scheduled targets',
    );
    this.#workers = runWorkers(
      this.#queue,
      this.#o.workers ?? 2,
      async (key) => {
        const r = await this.reconcile(key);
        results.inc({ result: r.result });
        if (r.wroteTarget) writes.inc({});
        return r.requeueAfterMs !== undefined ? { requeueAfterMs: r.requeueAfterMs } : undefined;
      },
      {
        onError: (key, err) => {
          results.inc({ result: 'error' });
          this.#log.warn('scheduling reconcile failed', { key, error: errorMessage(err) });
        },
      },
    );
    this.enqueueAll();
  }

  async stop(): Promise<void> {
    await this.#workers?.stop();
    await Promise.all([this.#rsps.stop(), ...[...this.#targets.values()].map((i) => i.stop())]);
  }

  /** Cluster membership or health changed: re-plan every RSP. */
  enqueueAll(): void {
    for (const r of this.#rsps.list()) this.#queue.add(keyOf(r));
  }

  #readyMembers(): Array<Member & { clients: ClusterClients }> {
    return this.#o
      .members()
      .filter(
        (m): m is Member & { clients: ClusterClients } => m.clients !== undefined && this.#o.isReady(m.name),
      );
  }

  /** One RSP: plan, write the target if it differs, write the status if it differs. */
  async reconcile(key: string): Promise<{
    result: 'scheduled' | 'unchanged' | 'failed' | 'waiting' | 'gone';
    wroteTarget: boolean;
    requeueAfterMs?: number;
  }> {
    const [namespace, name] = splitKey(key);
    const rsp = this.#rsps.get(name, namespace);
    // KubeFed: a deleted RSP leaves its target as last written.
    if (!rsp) {
      this.#written.delete(key);
      return { result: 'gone', wroteTarget: false };
    }
    const spec = rsp.spec;
    const targets = TARGETS[spec?.targetKind ?? ''];
    const informer = this.#targets.get(spec?.targetKind ?? '');
    if (targets && informer && !informer.hasSynced()) {
      return { result: 'waiting', wroteTarget: false, requeueAfterMs: NOT_SYNCED_RETRY_MS };
    }
    const target = informer?.get(name, namespace);
    const ready = this.#readyMembers();
    let currentReplicas: Record<string, number> | undefined;
    if (targets && target && spec.rebalance !== true) {
      currentReplicas = await this.#currentReplicas(ready, targets.member, name, namespace ?? '');
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
      const written = await patchResource(this.#o.host.kc, targets.federated, name, namespace, {
        metadata: { resourceVersion: target.metadata?.resourceVersion },
        spec: { placement: decision.scheduled.placement, overrides: decision.scheduled.overrides },
      });
      wroteTarget = true;
      const rv = written.metadata?.resourceVersion;
      if (rv !== undefined) this.#written.set(key, rv);
      this.#log.info('scheduled replicas', { key, kind: spec.targetKind, replicas: decision.plan.replicas });
    } else if (!decision.ok) {
      this.#log.debug('not scheduled', { key, reason: decision.reason, message: decision.message });
    }

    const status = nextStatus(rsp.status, decision, rsp.metadata?.generation, new Date());
    if (status) await patchStatus(this.#o.host.kc, RSP_REF, name, namespace, status);
    return {
      result: !decision.ok ? 'failed' : wroteTarget ? 'scheduled' : 'unchanged',
      wroteTarget,
    };
  }

  /**
   * Ready replicas of the member objects behind the target, per Ready cluster (missing object: 0).
   * A member that fails or hangs is left out (no current count: the planner treats it as running
   * nothing) so one sick cluster does not block scheduling for the others.
   */
  async #currentReplicas(
    ready: ReadonlyArray<Member & { clients: ClusterClients }>,
    ref: ResourceRef,
    name: string,
    namespace: string,
  ): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    await Promise.all(
      ready.map(async (m) => {
        try {
          const obj = await withTimeout(
            tryGetResource<MemberWorkload>(m.clients.kc, ref, name, namespace),
            MEMBER_READ_TIMEOUT_MS,
            `reading ${ref.kind} ${namespace}/${name} in cluster ${m.name}`,
          );
          out[m.name] = runningReplicas(obj);
        } catch (e) {
          this.#log.warn('current replicas unknown', {
            cluster: m.name,
            key: `${namespace}/${name}`,
            error: errorMessage(e),
          });
        }
      }),
    );
    return out;
  }
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

const keyOf = (o: KubernetesObject): string => `${o.metadata?.namespace}/${o.metadata?.name}`;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000}s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
