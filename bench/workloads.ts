// Workload pieces every benchmark shares (make bench, make bench-kubefed, make bench-scale): bulk
// FederatedConfigMap creates and template edits, "every member holds the expected copy", the limit
// baseline's plain pooled writes, and controller memory. Each takes its clients as arguments, so the
// same code measures fedctl, KubeFed and the baseline.
import { readFileSync } from 'node:fs';
import { type KubeConfig, type KubernetesObject, Watch } from '@kubernetes/client-node';
import { isAlreadyExists } from '../src/kube/errors.ts';
import { CONFIGMAP_REF, FEDERATED_CONFIGMAP_REF, NAMESPACE_REF, type ResourceRef } from '../src/kube/refs.ts';
import { collectionPath, createResource, listResource, patchResource } from '../src/kube/resources.ts';
import { kubeRequest } from '../src/kube/transport.ts';
import type { WriteFilter } from '../testbed/harness/metrics.ts';
import { sleep, waitFor } from '../testbed/harness/wait.ts';
import { pool } from './stats.ts';

/** Requests in flight for bulk writes: the controller's 8 workers each write to 3 clusters at once. */
export const CONCURRENCY = 24;

/** The data value object `i` carries in generation `gen` (0 = as created). */
export const dataValue = (i: number, gen = 0) => (gen === 0 ? `v-${i}` : `v-${i}-g${gen}`);

/** Index of a bench object from its name `cm-<i>`. */
const indexOf = (name: string | undefined) => Number((name ?? '').slice(3));

/** Runs `fn` for the bench objects 0…n-1, `concurrency` at a time. */
export const forEachObject = (n: number, concurrency: number, fn: (i: number) => Promise<unknown>) =>
  pool(
    Array.from({ length: n }, (_, i) => i),
    concurrency,
    fn,
  );

/** FederatedConfigMap `cm-<i>` placed on every cluster, carrying generation 0's value. */
export const federatedConfigMap = (i: number, namespace: string): KubernetesObject =>
  ({
    apiVersion: 'types.kubefed.io/v1beta1',
    kind: 'FederatedConfigMap',
    metadata: { name: `cm-${i}`, namespace },
    spec: { template: { data: { v: dataValue(i) } }, placement: { clusterSelector: {} } },
  }) as KubernetesObject;

/** The merge patch that edits `cm-<i>`'s template to generation `gen`'s value. */
export const templatePatch = (i: number, gen: number) => ({
  spec: { template: { data: { v: dataValue(i, gen) } } },
});

/** Creates `n` FederatedConfigMaps `cm-0…` placed on every cluster, `concurrency` at a time. */
export async function createFederatedConfigMaps(
  host: KubeConfig,
  namespace: string,
  n: number,
  concurrency = CONCURRENCY,
): Promise<void> {
  await forEachObject(n, concurrency, (i) =>
    createResource(host, FEDERATED_CONFIGMAP_REF, federatedConfigMap(i, namespace)),
  );
}

/** Edits the template of every `cm-<i>` to carry generation `gen`'s value (one merge patch each). */
export async function editFederatedConfigMaps(
  host: KubeConfig,
  namespace: string,
  n: number,
  gen: number,
  concurrency = CONCURRENCY,
): Promise<void> {
  await forEachObject(n, concurrency, (i) =>
    patchResource(host, FEDERATED_CONFIGMAP_REF, `cm-${i}`, namespace, templatePatch(i, gen)),
  );
}

/**
 * Waits until every member holds all `n` copies at generation `gen`. Each member is listed once and
 * then watched, not polled: listing 3 × n ConfigMaps several times a second would compete with the
 * federation under test for the API servers' CPU (the limit baseline pays no such cost).
 */
export async function waitForCopies(
  members: readonly KubeConfig[],
  namespace: string,
  n: number,
  gen = 0,
  timeoutMs = 900_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await Promise.all(members.map((m) => watchCopies(m, namespace, n, gen, deadline)));
}

type Copy = KubernetesObject & { data?: { v?: string } };
const isCopyAt = (o: Copy, gen: number) => o.data?.v === dataValue(indexOf(o.metadata?.name), gen);

/** List, then watch from the list's resourceVersion; a watch that ends early (410, timeout) relists. */
async function watchCopies(member: KubeConfig, namespace: string, n: number, gen: number, deadline: number) {
  const what = `${n} ConfigMaps at generation ${gen} in ${namespace} of ${member.getCurrentContext()}`;
  const matching = new Set<string>();
  for (;;) {
    const list = await listResource<Copy>(member, CONFIGMAP_REF, { namespace });
    matching.clear();
    for (const o of list.items) if (isCopyAt(o, gen)) matching.add(o.metadata?.name ?? '');
    if (matching.size === n) return;
    const outcome = await new Promise<'done' | 'ended'>((resolve, reject) => {
      let abort: AbortController | undefined;
      let finished = false;
      const finish = (r: 'done' | 'ended' | Error) => {
        finished = true;
        clearTimeout(timer);
        abort?.abort();
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
      const timer = setTimeout(
        () => finish(new Error(`timed out waiting for ${what}; ${matching.size} match`)),
        Math.max(0, deadline - Date.now()),
      );
      new Watch(member)
        .watch(
          `/api/v1/namespaces/${namespace}/configmaps`,
          { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: false },
          (type: string, o: Copy) => {
            const name = o.metadata?.name ?? '';
            if (type !== 'DELETED' && isCopyAt(o, gen)) matching.add(name);
            else matching.delete(name);
            if (matching.size === n) finish('done');
          },
          () => finish('ended'),
        )
        .then(
          (a) => {
            abort = a;
            // Events may have completed the wait before the watch call resolved.
            if (finished) a.abort();
          },
          () => finish('ended'),
        );
    });
    if (outcome === 'done') return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; ${matching.size} match`);
    await sleep(200);
  }
}

function statusKb(pid: number, field: string): number {
  const kb = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+) kB`))?.[1];
  if (kb === undefined) throw new Error(`no ${field} for pid ${pid}`);
  return Number(kb);
}

/** Resident set size of a process, in bytes (Linux). */
export const rssBytes = (pid: number): number => statusKb(pid, 'VmRSS') * 1024;

/** The highest resident set size the process has had since it started, in bytes (Linux). */
export const peakRssBytes = (pid: number): number => statusKb(pid, 'VmHWM') * 1024;

/** A Prometheus text exposition's value of an unlabelled sample, e.g. `nodejs_heap_used_bytes`. */
export function sampleValue(metricsText: string, name: string): number | undefined {
  const v = metricsText.match(new RegExp(`^${name} (\\S+)`, 'm'))?.[1];
  return v === undefined ? undefined : Number(v);
}

/** The managed label fedctl (and KubeFed) put on member copies. */
export const MANAGED = 'kubefed.io/managed=true';

/**
 * Host writes a federation makes around a FederatedConfigMap, as the API server counts them: the
 * object and its status (fedctl), plus what KubeFed adds (PropagatedVersions, Events).
 */
export const HOST_WRITE_FILTER: WriteFilter = {
  resources: {
    'types.kubefed.io': ['federatedconfigmaps'],
    'core.kubefed.io': ['propagatedversions'],
    '': ['events'],
    'events.k8s.io': ['events'],
  },
  subresources: true,
};

/** Member writes of the bulk workloads: the ConfigMap copies. */
export const MEMBER_WRITE_FILTER: WriteFilter = { resources: { '': ['configmaps'] } };

/** Creates the namespace in every given cluster (idempotent). */
export async function ensureNamespace(kcs: readonly KubeConfig[], name: string): Promise<void> {
  for (const kc of kcs)
    await createResource(kc, NAMESPACE_REF, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
    }).catch((e) => {
      if (!isAlreadyExists(e)) throw e;
    });
}

/** Label of the user's own ConfigMaps, to delete them and nothing else. */
export const USER_LABEL = 'fedctl-bench=user';

/** Plain ConfigMaps `user-<i>` (labelled USER_LABEL) created in one cluster, as a user's own client would. */
export async function createPlainConfigMaps(
  kc: KubeConfig,
  namespace: string,
  n: number,
  concurrency = CONCURRENCY,
): Promise<void> {
  await forEachObject(n, concurrency, (i) =>
    createResource(kc, CONFIGMAP_REF, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `user-${i}`, namespace, labels: { 'fedctl-bench': 'user' } },
      data: { v: dataValue(i) },
    }),
  );
}

/**
 * Deletes every object of `ref` in `namespace` (matching `labelSelector`) with one deletecollection,
 * then waits until none is left: finalizers (a federation's on its federated objects) may hold them.
 */
export async function deleteAllAndWait(
  kc: KubeConfig,
  ref: ResourceRef,
  namespace: string,
  labelSelector?: string,
  timeoutMs = 600_000,
): Promise<void> {
  await kubeRequest(kc, {
    method: 'DELETE',
    path: collectionPath(ref, namespace),
    query: { labelSelector },
    timeoutMs: 300_000,
  });
  await waitFor(
    `no ${ref.plural} left in ${namespace}${labelSelector ? ` (${labelSelector})` : ''}`,
    async () => (await listResource(kc, ref, { namespace, labelSelector })).items.length === 0,
    { timeoutMs, intervalMs: 500 },
  );
}

/**
 * Deletes the bench's FederatedConfigMaps and waits until the federation removed every copy
 * from the members (managed ConfigMaps in `namespace`).
 */
export async function deleteFederatedConfigMaps(
  host: KubeConfig,
  members: readonly KubeConfig[],
  namespace: string,
): Promise<void> {
  await deleteAllAndWait(host, FEDERATED_CONFIGMAP_REF, namespace);
  await Promise.all(
    members.map((m) =>
      waitFor(
        `member copies in ${namespace} deleted`,
        async () =>
          (await listResource(m, CONFIGMAP_REF, { namespace, labelSelector: MANAGED })).items.length === 0,
        { timeoutMs: 600_000, intervalMs: 500 },
      ),
    ),
  );
}
