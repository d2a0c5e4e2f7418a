// The limit baseline: the writes any federation with per-object status must make, sent by a plain
// pooled client at the bench's concurrency with no controller running. Per object, a create is the
// user's host create, one member create per cluster and one status write; an update is the user's
// template patch, one member update per cluster and one status write. Two honest orders:
//   phased     every host write, then every member write, then every status write
//   pipelined  per object host → each member in turn → status, CONCURRENCY objects at a time
// Both keep at most CONCURRENCY requests in flight; the faster is the limit. A run ends when its
// writes are answered and, given an observer, when that observer has seen every copy: the peer's
// runs end when the bench's own watch of the members sees the copies, so the limit pays the same
// watch (its API server and client CPU) instead of stopping its clock at the last answer.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { CONFIGMAP_REF, FEDERATED_CONFIGMAP_REF } from '../src/kube/refs.ts';
import { createResource, patchResource, patchStatus } from '../src/kube/resources.ts';
import { computePropagationStatus } from '../src/propagation/status.ts';
import { pool } from './stats.ts';
import {
  CONCURRENCY,
  dataValue,
  federatedConfigMap,
  forEachObject,
  MANAGED,
  templatePatch,
} from './workloads.ts';

export type LimitOrder = 'phased' | 'pipelined';

export interface LimitClients {
  host: KubeConfig;
  /** Member name → client, host included when it is a member. */
  members: Record<string, KubeConfig>;
}

/** One object's writes in the order a federation must make them. */
interface ObjectWrites {
  host(i: number): Promise<unknown>;
  member(cluster: string, i: number): Promise<unknown>;
  status(i: number): Promise<unknown>;
}

const [managedKey, managedValue] = MANAGED.split('=') as [string, string];

/** The status fedctl writes once every cluster holds the copy: built by fedctl's own roll-up. */
function inSyncStatus(clusters: readonly string[], generation: number): unknown {
  return computePropagationStatus({
    generation,
    now: new Date(),
    clusters: clusters.map((name) => ({ name })),
    propagated: true,
  });
}

function createWrites(c: LimitClients, namespace: string): ObjectWrites {
  const clusters = Object.keys(c.members);
  return {
    host: (i) => createResource(c.host, FEDERATED_CONFIGMAP_REF, federatedConfigMap(i, namespace)),
    member: (cluster, i) =>
      createResource(c.members[cluster]!, CONFIGMAP_REF, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cm-${i}`, namespace, labels: { [managedKey]: managedValue } },
        data: { v: dataValue(i) },
      } as KubernetesObject),
    status: (i) =>
      patchStatus(c.host, FEDERATED_CONFIGMAP_REF, `cm-${i}`, namespace, inSyncStatus(clusters, 1)),
  };
}

function updateWrites(c: LimitClients, namespace: string, gen: number): ObjectWrites {
  const clusters = Object.keys(c.members);
  return {
    host: (i) => patchResource(c.host, FEDERATED_CONFIGMAP_REF, `cm-${i}`, namespace, templatePatch(i, gen)),
    member: (cluster, i) =>
      patchResource(c.members[cluster]!, CONFIGMAP_REF, `cm-${i}`, namespace, {
        data: { v: dataValue(i, gen) },
      }),
    // A template edit bumps the generation once per edit: generation 1 + gen.
    status: (i) =>
      patchStatus(c.host, FEDERATED_CONFIGMAP_REF, `cm-${i}`, namespace, inSyncStatus(clusters, 1 + gen)),
  };
}

/** Phase durations (ms) of a phased run; a pipelined run has only `total`. */
export interface LimitTiming {
  order: LimitOrder;
  total: number;
  phases?: { host: number; members: number; status: number };
  /** CPU seconds per role over the run (bench/cpu.ts), when measured. */
  cpu?: Record<string, number>;
}

/** Waits until the members hold every copy the run writes (started before the first write). */
export type Observer = () => Promise<void>;

async function run(
  w: ObjectWrites,
  clusters: readonly string[],
  n: number,
  order: LimitOrder,
  observe?: Observer,
): Promise<LimitTiming> {
  const t0 = performance.now();
  const observed = observe?.();
  // Surfaced below; a rejection must not go unhandled while the writes run.
  observed?.catch(() => undefined);
  const end = async () => {
    await observed;
    return performance.now() - t0;
  };
  if (order === 'pipelined') {
    await forEachObject(n, CONCURRENCY, async (i) => {
      await w.host(i);
      for (const c of clusters) await w.member(c, i);
      await w.status(i);
    });
    return { order, total: await end() };
  }
  await forEachObject(n, CONCURRENCY, (i) => w.host(i));
  const t1 = performance.now();
  await pool(
    clusters.flatMap((c) => Array.from({ length: n }, (_, i) => ({ c, i }))),
    CONCURRENCY,
    ({ c, i }) => w.member(c, i),
  );
  const t2 = performance.now();
  await forEachObject(n, CONCURRENCY, (i) => w.status(i));
  const t3 = performance.now();
  return { order, total: await end(), phases: { host: t1 - t0, members: t2 - t1, status: t3 - t2 } };
}

/** The limit for `n` new federated objects in `namespace` (which must exist in every cluster). */
export function limitCreate(
  c: LimitClients,
  namespace: string,
  n: number,
  order: LimitOrder,
  observe?: Observer,
): Promise<LimitTiming> {
  return run(createWrites(c, namespace), Object.keys(c.members), n, order, observe);
}

/** The limit for editing the template of the `n` objects limitCreate made, to generation `gen`. */
export function limitUpdate(
  c: LimitClients,
  namespace: string,
  n: number,
  gen: number,
  order: LimitOrder,
  observe?: Observer,
): Promise<LimitTiming> {
  return run(updateWrites(c, namespace, gen), Object.keys(c.members), n, order, observe);
}

/** The faster of several runs of the same writes: the limit is the fastest honest plain client. */
export const fastest = (runs: readonly LimitTiming[]): LimitTiming =>
  runs.reduce((a, b) => (b.total < a.total ? b : a));
