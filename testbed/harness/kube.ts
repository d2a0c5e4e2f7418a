import { readFileSync } from 'node:fs';
import {
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { toClientNodeConfig } from '../../src/kube/client-node-bridge.ts';
import { type KubeconfigSource, loadKubeConfig } from '../../src/kube/clients.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../../src/kube/errors.ts';

/**
 * One context of a kubeconfig as a client-node KubeConfig, for what tests and benchmarks run on
 * client-node (its Watch, KubernetesObjectApi); fedctl's own functions take it too.
 */
export function clientNodeKubeConfig(source: KubeconfigSource): KubeConfig {
  return toClientNodeConfig(loadKubeConfig(source));
}

/** A generic client for one testbed cluster (context name = cluster name). */
export function clusterApi(
  kubeconfig: string,
  context: string,
): { kc: KubeConfig; api: KubernetesObjectApi } {
  const kc = clientNodeKubeConfig({ kubeconfig, context });
  return { kc, api: KubernetesObjectApi.makeApiClient(kc) };
}

export function readManifests(path: string): KubernetesObject[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJSON() as KubernetesObject | null)
    .filter((d): d is KubernetesObject => d !== null);
}

/**
 * kubectl apply, roughly: create, or replace keeping the live resourceVersion and, when the object
 * sets none, the live finalizers (a controller's, e.g. fedctl's on federated objects). A conflict
 * with a controller writing the same object meanwhile is retried, as apply's patch would not see one.
 */
export async function apply(api: KubernetesObjectApi, obj: KubernetesObject): Promise<KubernetesObject> {
  try {
    return await api.create(obj);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  for (let attempt = 1; ; attempt++) {
    const live = await api.read(obj as never);
    try {
      return await api.replace({
        ...obj,
        metadata: {
          ...obj.metadata,
          resourceVersion: live.metadata?.resourceVersion,
          ...(obj.metadata?.finalizers === undefined && live.metadata?.finalizers
            ? { finalizers: live.metadata.finalizers }
            : {}),
        },
      });
    } catch (e) {
      if (!isConflict(e) || attempt >= 10) throw e;
    }
  }
}

export async function read<T extends KubernetesObject = KubernetesObject & Record<string, never>>(
  api: KubernetesObjectApi,
  apiVersion: string,
  kind: string,
  name: string,
  namespace?: string,
): Promise<(T & Record<string, unknown>) | undefined> {
  try {
    return (await api.read({ apiVersion, kind, metadata: { name, namespace } } as never)) as never;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function remove(
  api: KubernetesObjectApi,
  apiVersion: string,
  kind: string,
  name: string,
  namespace?: string,
): Promise<void> {
  try {
    await api.delete({ apiVersion, kind, metadata: { name, namespace } } as never);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/** JSON merge patch (e.g. to simulate drift in a member). */
export async function mergePatch(
  api: KubernetesObjectApi,
  obj: KubernetesObject,
  patch: { metadata?: object; [k: string]: unknown },
): Promise<void> {
  const { metadata, ...rest } = patch;
  await api.patch(
    {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      ...rest,
      metadata: { ...metadata, name: obj.metadata?.name, namespace: obj.metadata?.namespace },
    } as never,
    undefined,
    undefined,
    undefined,
    undefined,
    PatchStrategy.MergePatch,
  );
}
