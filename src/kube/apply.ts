import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { needsUpdate } from '../propagation/equality.ts';
import { isNotFound } from './errors.ts';
import { createResource, getResource, type ResourceRef, replaceResource } from './resources.ts';

export type EnsureOutcome = 'created' | 'updated' | 'unchanged';

/**
 * Create `desired` or bring the live object up to it, writing nothing when every field it sets
 * already matches (idempotent installs and joins).
 */
export async function ensureObject(
  kc: KubeConfig,
  ref: ResourceRef,
  desired: KubernetesObject,
): Promise<EnsureOutcome> {
  const name = desired.metadata?.name ?? '';
  const namespace = ref.namespaced ? desired.metadata?.namespace : undefined;
  let live: KubernetesObject | undefined;
  try {
    live = await getResource(kc, ref, name, namespace);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  if (!live) {
    await createResource(kc, ref, desired);
    return 'created';
  }
  if (!needsUpdate(desired, live)) return 'unchanged';
  const next = structuredClone(desired);
  next.metadata = { ...live.metadata, ...desired.metadata, resourceVersion: live.metadata?.resourceVersion };
  await replaceResource(kc, ref, next);
  return 'updated';
}
