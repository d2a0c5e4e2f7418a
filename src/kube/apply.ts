import type { KubernetesObject } from '@kubernetes/client-node';
import { CRD_ESTABLISHED } from '../api/conditions.ts';
import { needsUpdate } from '../propagation/equality.ts';
import { exponentialDelay, sleep } from './backoff.ts';
import { errorMessage, isAlreadyExists, isConflict, isNotFound, isPermanent } from './errors.ts';
import type { KubeConfig } from './kubeconfig.ts';
import type { Logger } from './logger.ts';
import { CRD_REF, type ResourceRef } from './refs.ts';
import { createResource, getResource, replaceResource, tryGetResource } from './resources.ts';

export type EnsureOutcome = 'created' | 'updated' | 'unchanged';

/** Rounds of read-compare-write before a lost race counts as an error (each round re-reads). */
const RACE_ROUNDS = 5;

/**
 * Create `desired` or bring the live object up to it, writing nothing when every field it sets
 * already matches (idempotent installs and joins). Safe against other writers doing the same at the
 * same moment (`fedctl join` installs the core CRDs while the controller installs everything): a
 * create that meets AlreadyExists, a replace that meets Conflict (stale resourceVersion) or NotFound
 * (deleted in between) reads the object again and redoes the comparison.
 */
export async function ensureObject(
  kc: KubeConfig,
  ref: ResourceRef,
  desired: KubernetesObject,
): Promise<EnsureOutcome> {
  const name = desired.metadata?.name ?? '';
  const namespace = ref.namespaced ? desired.metadata?.namespace : undefined;
  for (let round = 1; ; round++) {
    const lostRace = (e: unknown) => round < RACE_ROUNDS && (isAlreadyExists(e) || isConflict(e));
    const live = await tryGetResource(kc, ref, name, namespace);
    if (!live) {
      try {
        await createResource(kc, ref, desired);
        return 'created';
      } catch (e) {
        if (lostRace(e)) continue;
        throw e;
      }
    }
    if (!needsUpdate(desired, live)) return 'unchanged';
    const next = structuredClone(desired);
    next.metadata = {
      ...live.metadata,
      ...desired.metadata,
      resourceVersion: live.metadata?.resourceVersion,
    };
    try {
      await replaceResource(kc, ref, next);
      return 'updated';
    } catch (e) {
      if (lostRace(e) || (round < RACE_ROUNDS && isNotFound(e))) continue;
      throw e;
    }
  }
}

/**
 * Create `obj` unless an object of that name exists, whatever it holds: for objects users own once
 * created (KubeFedConfig, FederatedTypeConfigs). Losing a create race to another installer counts as
 * "already there".
 */
export async function createIfAbsent(
  kc: KubeConfig,
  ref: ResourceRef,
  obj: KubernetesObject,
): Promise<'created' | 'unchanged'> {
  const namespace = ref.namespaced ? obj.metadata?.namespace : undefined;
  if (await tryGetResource(kc, ref, obj.metadata?.name ?? '', namespace)) return 'unchanged';
  try {
    await createResource(kc, ref, obj);
    return 'created';
  } catch (e) {
    if (isAlreadyExists(e)) return 'unchanged';
    throw e;
  }
}

export interface RetryOptions {
  log?: Pick<Logger, 'warn'>;
  /** Stops retrying: the last error is thrown. */
  signal?: AbortSignal;
  /** First delay (default 500 ms), doubling to maxMs (default 15 s). */
  baseMs?: number;
  maxMs?: number;
  /** Give up after this many attempts (default: never). */
  attempts?: number;
}

/**
 * Runs `fn` until it succeeds. A failure that retrying cannot fix (isPermanent: invalid request, bad
 * credentials, no permission) is thrown at once; anything else (the API server away, timeouts, races,
 * 5xx) is logged and retried with exponential backoff, so an unreachable host is a wait, not a crash.
 */
export async function retryTransient<T>(
  what: string,
  fn: () => Promise<T>,
  o: RetryOptions = {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (isPermanent(e) || o.signal?.aborted || (o.attempts !== undefined && attempt + 1 >= o.attempts))
        throw e;
      const delayMs = exponentialDelay(attempt, o.baseMs ?? 500, o.maxMs ?? 15_000);
      o.log?.warn(`${what} failed; retrying`, { error: errorMessage(e), attempt: attempt + 1, delayMs });
      await sleep(delayMs, undefined, o.signal);
      if (o.signal?.aborted) throw e;
    }
  }
}

/**
 * Waits until the CRD `name` is Established (its kinds are served). Whoever created it — this
 * process or another installer racing it — objects of its kinds can be written only after that.
 */
export async function waitEstablished(kc: KubeConfig, name: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crd = (await getResource(kc, CRD_REF, name)) as {
      status?: { conditions?: Array<{ type: string; status: string }> };
    };
    if (crd.status?.conditions?.some((c) => c.type === CRD_ESTABLISHED && c.status === 'True')) return;
    if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
    await sleep(200);
  }
}
