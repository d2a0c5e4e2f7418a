import type { KubernetesObject } from '@kubernetes/client-node';
import { errorMessage, isAlreadyExists, isConflict, isNotFound } from './errors.ts';
import type { KubeConfig } from './kubeconfig.ts';
import type { Logger } from './logger.ts';
import { LEASE_REF } from './refs.ts';
import { collectionPath, getResource, objectPath, replaceResource } from './resources.ts';
import { kubeRequest } from './transport.ts';

// Leader election on a coordination.k8s.io Lease, as KubeFed's controller manager did (durations from
// KubeFedConfig.spec.leaderElect). Only the leader runs controllers; one that cannot renew in time
// stops them, so two never write at once, and campaigns again.

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

/** A campaign for the lease. A term is one uninterrupted stretch of holding it (numbered from 1). */
export interface Election {
  /** Resolves with the term number once this process holds the lease (at once if it does now). */
  leading(): Promise<number>;
  /**
   * Resolves with the reason once `term` is over: at once if it already is (even if a later term
   * began since — whoever ran controllers for `term` must stop them and start afresh).
   */
  lost(term: number): Promise<string>;
  isLeader(): boolean;
  /** Ends the campaign and releases a held lease. */
  stop(): Promise<void>;
}

/**
 * Campaigns for the lease for as long as the process runs: tries every retry period, renews while
 * holding it. A leader whose last successful renewal is older than the renew deadline (the host API
 * server unreachable or hung, the lease taken) steps down — its term ends so the caller stops its
 * controllers before anyone else may take over — and goes on campaigning: when the host is back it
 * leads again in a new term. Losing the lease is never the end of the process (issue #9).
 */
export function campaign(o: LeaderElectionOptions): Election {
  let stopped = false;
  let term = 0;
  let leader = false;
  let lastError = '';
  let timer: NodeJS.Timeout | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  /** This process wrote the lease as its holder at least once (so stop() has something to release). */
  let wrote = false;
  let leadingWaiters: Array<(term: number) => void> = [];
  let lostWaiters: Array<{ term: number; resolve: (why: string) => void }> = [];
  const lease = `${o.namespace}/${o.name}`;

  const stepDown = (why: string) => {
    if (!leader) return;
    leader = false;
    clearTimeout(watchdog);
    o.log.warn('lost leadership; stopping controllers and campaigning again', { lease, term, reason: why });
    const waiting = lostWaiters;
    lostWaiters = [];
    for (const w of waiting) w.resolve(why);
  };

  // Each lease request is bounded by the retry period: a host that accepts connections and never
  // answers must not keep the campaign from trying again once it answers (the default limit is 60 s).
  const timeoutMs = Math.max(1000, Math.min(o.retryPeriodMs, o.renewDeadlineMs));
  const path = objectPath(LEASE_REF, o.name, o.namespace);
  const attempt = async (): Promise<void> => {
    let current: Lease | undefined;
    try {
      current = await kubeRequest<Lease>(o.kc, { method: 'GET', path, timeoutMs });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const now = new Date();
    const decision = decideLease(current, o.identity, now);
    if (decision.action === 'wait') {
      stepDown(`lease ${lease} taken by ${decision.holder}`);
      return;
    }
    const next = nextLease(current, decision, o, now);
    if (decision.action === 'create')
      await kubeRequest(o.kc, {
        method: 'POST',
        path: collectionPath(LEASE_REF, o.namespace),
        body: next,
        timeoutMs,
      });
    else await kubeRequest(o.kc, { method: 'PUT', path, body: next, timeoutMs });
    wrote = true;
    if (stopped) return;
    lastError = '';
    // The deadline counts from the renewTime written, which is what other candidates judge by.
    clearTimeout(watchdog);
    watchdog = setTimeout(
      () =>
        stepDown(
          `could not renew lease ${lease} within ${o.renewDeadlineMs} ms${lastError ? `: ${lastError}` : ''}`,
        ),
      Math.max(0, now.getTime() + o.renewDeadlineMs - Date.now()),
    );
    if (!leader) {
      leader = true;
      term++;
      o.log.info('became leader', { lease, identity: o.identity, term });
      const waiting = leadingWaiters;
      leadingWaiters = [];
      for (const w of waiting) w(term);
    }
  };

  const loop = async () => {
    if (stopped) return;
    inFlight = attempt().catch((e: unknown) => {
      lastError = errorMessage(e);
      // Losing a race (conflict, already exists) is normal; anything else is worth a line.
      if (!isConflict(e) && !isAlreadyExists(e)) o.log.warn('leader election', { lease, error: lastError });
    });
    await inFlight;
    inFlight = undefined;
    if (!stopped) timer = setTimeout(loop, o.retryPeriodMs);
  };
  void loop();

  return {
    leading: () => (leader ? Promise.resolve(term) : new Promise((r) => leadingWaiters.push(r))),
    lost: (t) =>
      leader && t === term
        ? new Promise((resolve) => lostWaiters.push({ term: t, resolve }))
        : Promise.resolve(`term ${t} is over`),
    isLeader: () => leader,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      // A renewal on the wire may still land; wait for it briefly so the release below sees it.
      if (inFlight) await Promise.race([inFlight, new Promise((r) => setTimeout(r, 2000))]);
      const held = leader;
      clearTimeout(watchdog);
      if (held) {
        leader = false;
        for (const w of lostWaiters) w.resolve('stopped');
        lostWaiters = [];
      }
      if (!wrote) return;
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
