import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { isAlreadyExists, isConflict, isNotFound } from './errors.ts';
import type { Logger } from './logger.ts';
import { createResource, getResource, type ResourceRef, replaceResource } from './resources.ts';

// Leader election on a coordination.k8s.io Lease, as KubeFed's controller manager did (durations from
// KubeFedConfig.spec.leaderElect). Only the leader runs controllers; one that cannot renew in time
// stops, so two never write at once.

export const LEASE_REF: ResourceRef = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
};

export interface Lease extends KubernetesObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export type LeaseDecision =
  | { action: 'create' }
  | { action: 'renew' }
  | { action: 'takeover' }
  | { action: 'wait'; holder: string };

/** Pure: what a candidate does with the lease it read (undefined: none exists). */
export function decideLease(lease: Lease | undefined, identity: string, now: Date): LeaseDecision {
  if (!lease) return { action: 'create' };
  const holder = lease.spec?.holderIdentity ?? '';
  if (holder === identity) return { action: 'renew' };
  if (!holder) return { action: 'takeover' };
  const renewed = Date.parse(lease.spec?.renewTime ?? lease.spec?.acquireTime ?? '');
  const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
  if (Number.isNaN(renewed) || renewed + durationMs < now.getTime()) return { action: 'takeover' };
  return { action: 'wait', holder };
}

/** Pure: the lease to write for a decision (create, renew or takeover). */
export function nextLease(
  current: Lease | undefined,
  decision: LeaseDecision,
  o: { namespace: string; name: string; identity: string; leaseDurationMs: number },
  now: Date,
): Lease {
  const time = now.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'); // MicroTime
  const spec = current?.spec ?? {};
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: o.name, namespace: o.namespace, resourceVersion: current?.metadata?.resourceVersion },
    spec: {
      holderIdentity: o.identity,
      leaseDurationSeconds: Math.ceil(o.leaseDurationMs / 1000),
      acquireTime: decision.action === 'renew' ? spec.acquireTime : time,
      renewTime: time,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (decision.action === 'takeover' ? 1 : 0),
    },
  };
}

export interface LeaderElectionOptions {
  kc: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
}

/**
 * Campaigns until this process holds the lease, then keeps renewing it every retry period. Resolves
 * `leading` once elected; `lost` resolves when a renewal has not succeeded within the renew deadline
 * (the caller must stop its controllers). `stop()` ends the campaign and releases a held lease.
 */
export function campaign(o: LeaderElectionOptions): {
  leading: Promise<void>;
  lost: Promise<string>;
  stop(): Promise<void>;
} {
  let stopped = false;
  let isLeader = false;
  let lastRenew = 0;
  let timer: NodeJS.Timeout | undefined;
  let onLeading!: () => void;
  let onLost!: (why: string) => void;
  const leading = new Promise<void>((r) => {
    onLeading = r;
  });
  const lost = new Promise<string>((r) => {
    onLost = r;
  });

  const attempt = async (): Promise<void> => {
    let current: Lease | undefined;
    try {
      current = (await getResource(o.kc, LEASE_REF, o.name, o.namespace)) as Lease;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const now = new Date();
    const decision = decideLease(current, o.identity, now);
    if (decision.action === 'wait') {
      if (isLeader) throw new Error(`lease taken by ${decision.holder}`);
      return;
    }
    const lease = nextLease(current, decision, o, now);
    if (decision.action === 'create') await createResource(o.kc, LEASE_REF, lease);
    else await replaceResource(o.kc, LEASE_REF, lease);
    lastRenew = Date.now();
    if (!isLeader) {
      isLeader = true;
      o.log.info('became leader', { lease: `${o.namespace}/${o.name}`, identity: o.identity });
      onLeading();
    }
  };

  const loop = async () => {
    if (stopped) return;
    try {
      await attempt();
    } catch (e) {
      // Losing a race (conflict, already exists) is normal; anything else is logged. A leader that
      // cannot renew within the deadline steps down.
      if (!isConflict(e) && !isAlreadyExists(e))
        o.log.warn('leader election', { error: String((e as Error)?.message ?? e) });
      if (isLeader && (Date.now() - lastRenew > o.renewDeadlineMs || /lease taken/.test(String(e)))) {
        isLeader = false;
        stopped = true;
        onLost(
          `could not renew lease ${o.namespace}/${o.name} within ${o.renewDeadlineMs} ms: ${(e as Error)?.message ?? e}`,
        );
        return;
      }
    }
    if (!stopped) timer = setTimeout(loop, o.retryPeriodMs);
  };
  void loop();

  return {
    leading,
    lost,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      if (!isLeader) return;
      // Release so a successor need not wait for the lease to expire.
      try {
        const current = (await getResource(o.kc, LEASE_REF, o.name, o.namespace)) as Lease;
        if (current.spec?.holderIdentity === o.identity) {
          await replaceResource(o.kc, LEASE_REF, {
            ...current,
            spec: { ...current.spec, holderIdentity: '' },
          } as Lease);
        }
      } catch {
        // Best effort: the lease expires anyway.
      }
    },
  };
}
